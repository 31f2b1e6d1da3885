import Foundation
import Testing
import FableTestSupport
import FableTraining
@testable import FableReports

@Suite("ChartScale: data-to-pixel mapping and ticks")
struct ChartScaleTests {
    @Test("a linear scale maps in proportion, and back")
    func linearMapping() {
        let s = ChartScale(kind: .linear, domain: 0...10, start: 100, end: 300)
        #expect(s.pixel(0) == 100)
        #expect(s.pixel(10) == 300)
        #expect(s.pixel(2.5) == 150)
        #expect(s.pixel(-5) == 0)  // outside the domain maps outside the range
        #expect(s.pixel(.nan) == nil)
        #expect(s.value(atPixel: 250) == 7.5)
        // A y axis runs upward: the low end at the bottom pixel.
        let y = ChartScale(kind: .linear, domain: 2...4, start: 400, end: 40)
        #expect(y.pixel(3) == 220)
    }

    @Test("a log scale maps decades to equal distances")
    func logMapping() throws {
        let s = ChartScale(kind: .logarithmic, domain: 1...1000, start: 0, end: 300)
        #expect(abs(try #require(s.pixel(10)) - 100) < 1e-9)
        #expect(abs(try #require(s.pixel(100)) - 200) < 1e-9)
        #expect(abs(try #require(s.pixel(sqrt(10))) - 50) < 1e-9)
        #expect(s.pixel(0) == nil)
        #expect(s.pixel(-1) == nil)
        #expect(abs(s.value(atPixel: 150) - pow(10, 1.5)) < 1e-9)
    }

    @Test("degenerate domains are widened rather than dividing by zero")
    func degenerate() {
        let flat = ChartScale(kind: .linear, domain: 5...5, start: 0, end: 100)
        #expect(flat.pixel(5) == 50)
        let log = ChartScale(kind: .logarithmic, domain: 0...0, start: 0, end: 100)
        #expect(log.domain.lowerBound > 0)
    }

    @Test("nice steps are 1, 2 or 5 times a power of ten", arguments: [
        (0.0, 1.0, 6, 0.2), (0.0, 100.0, 6, 20.0), (2.3, 9.7, 6, 2.0), (0.0, 5000.0, 6, 1000.0),
        (1.6, 9.5, 10, 1.0), (0.0, 0.001, 6, 0.0002), (0.0, 41_000_000.0, 6, 10_000_000.0), (-3.0, 7.0, 6, 2.0),
    ])
    func niceStep(lo: Double, hi: Double, maxCount: Int, expected: Double) {
        #expect(abs(ChartScale.niceStep(lo, hi, maxCount: maxCount) - expected) < expected * 1e-9)
    }

    @Test("linear ticks on known ranges")
    func linearTicks() {
        #expect(ChartScale.linearTicks(0, 1, maxCount: 6) == [0, 0.2, 0.4, 0.6, 0.8, 1])
        #expect(ChartScale.linearTicks(2.3, 9.7, maxCount: 6) == [4, 6, 8])
        #expect(ChartScale.linearTicks(0, 5000, maxCount: 6) == [0, 1000, 2000, 3000, 4000, 5000])
        #expect(ChartScale.linearTicks(-0.3, 0.3, maxCount: 7) == [-0.3, -0.2, -0.1, 0, 0.1, 0.2, 0.3])
        #expect(ChartScale.niceDomain(2.3, 9.7, maxCount: 6) == 2...10)
        #expect(ChartScale.niceDomain(1.71, 9.2, maxCount: 10) == 1...10)
    }

    @Test("log ticks: powers of ten over many decades, 1-2-5 over a few, even steps within one")
    func logTicks() {
        #expect(ChartScale.logTicks(1, 1e6, maxCount: 7) == [1, 10, 100, 1000, 1e4, 1e5, 1e6])
        #expect(ChartScale.logTicks(1e-8, 1, maxCount: 5) == [1e-8, 1e-6, 1e-4, 1e-2, 1])
        #expect(ChartScale.logTicks(1, 100, maxCount: 7) == [1, 2, 5, 10, 20, 50, 100])
        #expect(ChartScale.logTicks(1.6, 9.5, maxCount: 5) == [2, 4, 6, 8])
        #expect(ChartScale.logTicks(3e-5, 1e-2, maxCount: 7) == [1e-4, 1e-3, 1e-2])
    }

    @Test("tick labels carry just enough digits, with suffixes for big values")
    func labels() {
        let fifths = [0, 0.2, 0.4]
        #expect(fifths.map { ChartScale.tickLabel($0, among: fifths) } == ["0", "0.2", "0.4"])
        let tokens = [0, 2e6, 4e6, 6e6]
        #expect(tokens.map { ChartScale.tickLabel($0, among: tokens) } == ["0", "2M", "4M", "6M"])
        let halves = [1.5, 2.0, 2.5]
        #expect(halves.map { ChartScale.tickLabel($0, among: halves) } == ["1.5", "2.0", "2.5"])
        let rates = [1e-4, 1e-3, 1e-2]
        #expect(rates.map { ChartScale.tickLabel($0, among: rates) } == ["1e-4", "1e-3", "1e-2"])
        let steps = [0.0, 1000, 2000]
        #expect(steps.map { ChartScale.tickLabel($0, among: steps) } == ["0", "1000", "2000"])
    }
}
