import Foundation
import Testing
import FableTestSupport
import FableTraining
@testable import FableReports

@Suite("SVGChart: layout, clipping and well-formed output")
struct SVGChartTests {
    func chart(_ series: [ChartSeries], log: Bool = false) -> SVGChart {
        SVGChart(title: "Loss <vs> steps & more", xLabel: "step", yLabel: "loss", series: series,
                 yScale: log ? .logarithmic : .linear)
    }

    /// The numbers in every `d="..."` path attribute, as (x, y) pairs.
    func pathPoints(_ svg: String) -> [(Double, Double)] {
        var points: [(Double, Double)] = []
        for part in svg.components(separatedBy: " d=\"").dropFirst() {
            let d = part.prefix { $0 != "\"" }
            let numbers = d.split(whereSeparator: { "MLVH,".contains($0) }).compactMap { Double($0) }
            guard !d.contains("V") else { continue }  // the axis path
            for i in stride(from: 0, to: numbers.count - 1, by: 2) { points.append((numbers[i], numbers[i + 1])) }
        }
        return points
    }

    @Test("the x axis spans the data from 0, the y axis rounds out to nice ticks")
    func layoutDomains() {
        let c = chart([ChartSeries(name: "a", points: [ChartPoint(x: 10, y: 2.3), ChartPoint(x: 5000, y: 9.7)], colour: "#000")])
        let l = c.layout()
        #expect(l.x.domain == 0...5000)
        #expect(l.x.pixel(0) == l.plotLeft)
        #expect(l.x.pixel(5000) == l.plotRight)
        #expect(l.y.domain.lowerBound <= 2.3 && l.y.domain.upperBound >= 9.7)
        #expect(l.y.pixel(l.y.domain.lowerBound) == l.plotBottom)
        #expect(l.yTicks.first == l.y.domain.lowerBound && l.yTicks.last == l.y.domain.upperBound)
        #expect(l.xTicks == [0, 1000, 2000, 3000, 4000, 5000])
    }

    @Test("the output is well-formed XML, names escaped")
    func wellFormed() {
        let c = chart([
            ChartSeries(name: "run <1> & \"friends\"", points: (0..<50).map { ChartPoint(x: Double($0), y: 10 / Double($0 + 1)) },
                        colour: "#0072B2", showsPoints: true),
            ChartSeries(name: "diverged", points: [ChartPoint(x: 0, y: 5), ChartPoint(x: 1, y: .nan)], colour: "#D55E00", marksEnd: true),
        ], log: true)
        let svg = c.svg()
        #expect(xmlProblem(svg) == nil)
        #expect(svg.contains("run &lt;1&gt; &amp; &quot;friends&quot;"))
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(!c.svg(standalone: false).contains("http"))
    }

    @Test("a point far above the axis is clipped at the border, where the line crosses it")
    func clipping() throws {
        var c = chart([ChartSeries(name: "a", points: [ChartPoint(x: 0, y: 1), ChartPoint(x: 1, y: 2), ChartPoint(x: 2, y: 1e9)],
                                   colour: "#000")])
        c.yDomain = 0...3
        c.xDomain = 0...2
        let l = c.layout()
        let lines = c.visiblePolylines(c.series[0], l)
        #expect(lines.count == 1)
        let end = try #require(lines[0].last)
        #expect(abs(end.y - l.plotTop) < 1e-9)
        // The segment from (1, 2) to (2, 1e9) reaches y = 3 after (3 - 2) / (1e9 - 2) of its length.
        let expectedX = try #require(l.x.pixel(1 + 1 / (1e9 - 2)))
        #expect(abs(end.x - expectedX) < 1e-6)
        for (x, y) in pathPoints(c.svg()) {
            #expect(x >= l.plotLeft - 0.05 && x <= l.plotRight + 0.05 && y >= l.plotTop - 0.05 && y <= l.plotBottom + 0.05)
        }
    }

    @Test("non-finite values and non-positive values on a log axis leave gaps")
    func gaps() {
        let points = [1.0, 2, .nan, 3, 4, 0, 5, 6].enumerated().map { ChartPoint(x: Double($0.offset), y: $0.element) }
        let linear = chart([ChartSeries(name: "a", points: points, colour: "#000")])
        #expect(linear.visiblePolylines(linear.series[0], linear.layout()).map(\.count) == [2, 5])
        let log = chart([ChartSeries(name: "a", points: points, colour: "#000")], log: true)
        #expect(log.visiblePolylines(log.series[0], log.layout()).map(\.count) == [2, 2, 2])
    }

    @Test("a ceiling keeps an exploding series from stretching the axis")
    func ceiling() {
        var c = chart([ChartSeries(name: "a", points: [ChartPoint(x: 0, y: 9), ChartPoint(x: 1, y: 2), ChartPoint(x: 2, y: 5000)],
                                   colour: "#000")])
        c.yCeiling = 10
        #expect(c.layout().y.domain.upperBound <= 10)
    }

    @Test("dense series are thinned per pixel column, keeping each column's extremes")
    func thinning() {
        let n = 100_000
        let points = (0..<n).map { i in ChartPoint(x: Double(i), y: i == 54_321 ? 100 : sin(Double(i))) }
        let c = chart([ChartSeries(name: "a", points: points, colour: "#000")])
        let l = c.layout()
        let lines = c.visiblePolylines(c.series[0], l)
        let total = lines.map(\.count).reduce(0, +)
        #expect(total < Int(4 * (l.plotRight - l.plotLeft)) + 10)
        #expect(lines.joined().contains { abs($0.y - l.y.pixel(100)!) < 1e-9 })  // the spike survives
        #expect(xmlProblem(c.svg()) == nil)
    }

    @Test("with nothing to draw the chart says so")
    func empty() {
        let c = chart([ChartSeries(name: "a", points: [ChartPoint(x: 0, y: .nan)], colour: "#000")])
        let svg = c.svg()
        #expect(svg.contains(">no data<"))
        #expect(xmlProblem(svg) == nil)
    }

    @Test("the palette cycles colours, then line styles")
    func palette() {
        let n = ChartPalette.colours.count
        #expect(ChartPalette.style(0).colour != ChartPalette.style(1).colour)
        #expect(ChartPalette.style(n).colour == ChartPalette.style(0).colour)
        #expect(ChartPalette.style(n).lineStyle == .dashed)
    }
}
