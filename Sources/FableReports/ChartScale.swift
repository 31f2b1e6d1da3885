import FableTraining
import Foundation

/// Maps data values on one axis to pixels, and chooses the axis's tick values.
///
/// A linear scale maps `domain.lowerBound -> start` and `domain.upperBound -> end` in
/// proportion; a logarithmic one does the same with `log10` of the values. For a y axis
/// `start` is the bottom pixel and `end` the top one, so larger values sit higher.
public struct ChartScale: Equatable, Sendable {
    /// Linear or base-10 logarithmic.
    public enum Kind: Equatable, Sendable {
        case linear
        case logarithmic
    }

    public let kind: Kind
    /// The data values at the two ends of the axis (positive on a log scale).
    public let domain: ClosedRange<Double>
    /// The pixel of `domain.lowerBound`.
    public let start: Double
    /// The pixel of `domain.upperBound`.
    public let end: Double

    /// - Parameters:
    ///   - kind: linear or logarithmic.
    ///   - domain: the values at the ends; a zero-width domain is widened so it still maps.
    ///   - start: pixel of the low end; `end`: pixel of the high end.
    public init(kind: Kind, domain: ClosedRange<Double>, start: Double, end: Double) {
        var lo = domain.lowerBound, hi = domain.upperBound
        if kind == .logarithmic {
            // A log axis needs positive ends; a degenerate one is widened by a factor of 10.
            lo = lo > 0 ? lo : (hi > 0 ? hi / 10 : 1)
            hi = max(hi, lo)
            if hi == lo { lo /= 10; hi *= 10 }
        } else if hi == lo {
            let pad = lo == 0 ? 1 : abs(lo) * 0.1
            lo -= pad; hi += pad
        }
        self.kind = kind
        self.domain = lo...hi
        self.start = start
        self.end = end
    }

    /// The pixel of `value`, or nil when it has none (non-finite, or not positive on a log scale).
    /// Values outside the domain map outside `start...end`; the chart clips them.
    public func pixel(_ value: Double) -> Double? {
        guard value.isFinite else { return nil }
        let t: Double
        switch kind {
        case .linear:
            t = (value - domain.lowerBound) / (domain.upperBound - domain.lowerBound)
        case .logarithmic:
            guard value > 0 else { return nil }
            t = (log10(value) - log10(domain.lowerBound)) / (log10(domain.upperBound) - log10(domain.lowerBound))
        }
        return start + t * (end - start)
    }

    /// The value at `pixel`: the inverse of ``pixel(_:)``.
    public func value(atPixel pixel: Double) -> Double {
        let t = (pixel - start) / (end - start)
        switch kind {
        case .linear:
            return domain.lowerBound + t * (domain.upperBound - domain.lowerBound)
        case .logarithmic:
            let lo = log10(domain.lowerBound), hi = log10(domain.upperBound)
            return pow(10, lo + t * (hi - lo))
        }
    }

    // MARK: - Ticks

    /// Tick values inside the domain: for a linear scale, multiples of a 1-2-5 step (at most
    /// `maxCount`); for a log scale, powers of ten when the domain spans three decades or
    /// more, 1-2-5 multiples of powers of ten across one to three decades, and a linear
    /// 1-2-5 step within a narrower domain.
    public func ticks(maxCount: Int = 7) -> [Double] {
        switch kind {
        case .linear:
            return ChartScale.linearTicks(domain.lowerBound, domain.upperBound, maxCount: maxCount)
        case .logarithmic:
            return ChartScale.logTicks(domain.lowerBound, domain.upperBound, maxCount: maxCount)
        }
    }

    /// The candidate steps 1, 2, 5 x 10^k, from the smallest that could be useful.
    static func niceSteps(forSpan span: Double) -> [Double] {
        let base = pow(10, floor(log10(span)) - 2)
        var steps: [Double] = []
        var decade = base
        for _ in 0..<6 {
            steps += [decade, 2 * decade, 5 * decade]
            decade *= 10
        }
        return steps
    }

    /// The smallest 1-2-5 step giving at most `maxCount` ticks: multiples of the step inside
    /// `lo...hi`, or, with `roundedOut`, from `lo` rounded down to `hi` rounded up.
    public static func niceStep(_ lo: Double, _ hi: Double, maxCount: Int, roundedOut: Bool = false) -> Double {
        let span = max(hi - lo, abs(hi) * 1e-12, 1e-300)
        for step in niceSteps(forSpan: span) {
            let count = roundedOut
                ? (hi / step).rounded(.up) - (lo / step).rounded(.down) + 1
                : (hi / step + 1e-9).rounded(.down) - (lo / step - 1e-9).rounded(.up) + 1
            if count <= Double(max(2, maxCount)) { return step }
        }
        return pow(10, (log10(span)).rounded(.up))
    }

    /// `lo...hi` widened outward to multiples of the nice step: the domain of a linear
    /// axis whose first and last ticks sit at its ends.
    public static func niceDomain(_ lo: Double, _ hi: Double, maxCount: Int = 7) -> ClosedRange<Double> {
        guard lo.isFinite, hi.isFinite else { return 0...1 }
        if lo == hi {
            let pad = lo == 0 ? 1 : abs(lo) * 0.1
            return niceDomain(lo - pad, hi + pad, maxCount: maxCount)
        }
        let step = niceStep(lo, hi, maxCount: maxCount, roundedOut: true)
        return snap((lo / step).rounded(.down) * step) ... snap((hi / step).rounded(.up) * step)
    }

    /// Multiples of the nice step that lie inside `lo...hi` (with a little tolerance for
    /// rounding), without `-0`.
    public static func linearTicks(_ lo: Double, _ hi: Double, maxCount: Int) -> [Double] {
        guard lo.isFinite, hi.isFinite, hi > lo else { return lo.isFinite ? [lo] : [] }
        let step = niceStep(lo, hi, maxCount: maxCount)
        let first = (lo / step - 1e-9).rounded(.up)
        let last = (hi / step + 1e-9).rounded(.down)
        guard first <= last else { return [] }
        return stride(from: first, through: last, by: 1).map { k in
            let v = k * step
            // Snap away the float noise of k * step (0.30000000000000004 -> 0.3).
            let snapped = Double(String(format: "%.12g", v)) ?? v
            return snapped == 0 ? 0 : snapped
        }
    }

    /// Tick values for a log axis over `lo...hi` (both positive).
    public static func logTicks(_ lo: Double, _ hi: Double, maxCount: Int) -> [Double] {
        guard lo > 0, hi > lo else { return lo > 0 ? [lo] : [] }
        let decades = log10(hi) - log10(lo)
        let inside = { (v: Double) in v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9) }
        let firstPower = Int(floor(log10(lo))), lastPower = Int(ceil(log10(hi)))
        if decades >= 3 {
            // Powers of ten, every k-th one when there are too many.
            let powers = (firstPower...lastPower).map { pow(10, Double($0)) }.filter(inside)
            let stride = max(1, Int((Double(powers.count) / Double(max(2, maxCount))).rounded(.up)))
            return powers.enumerated().filter { $0.offset % stride == 0 }.map { snap($0.element) }
        }
        if decades >= 1 {
            var ticks: [Double] = []
            for p in firstPower...lastPower {
                for m in [1.0, 2.0, 5.0] { ticks.append(snap(m * pow(10, Double(p)))) }
            }
            let inRange = ticks.filter(inside)
            if inRange.count <= max(2, maxCount) { return inRange }
            return inRange.filter { v in abs(log10(v) - log10(v).rounded()) < 1e-9 }  // just the powers
        }
        // Less than a decade: evenly stepped values, which a log axis spaces unevenly.
        return linearTicks(lo, hi, maxCount: maxCount).filter { $0 > 0 }
    }

    static func snap(_ v: Double) -> Double { Double(String(format: "%.12g", v)) ?? v }

    // MARK: - Labels

    /// A label for the tick `value` among `ticks`: enough decimals to tell neighbours apart,
    /// K/M/B suffixes for large values, short scientific notation for tiny ones (`3e-4`).
    public static func tickLabel(_ value: Double, among ticks: [Double]) -> String {
        if value == 0 { return "0" }
        let magnitudes = ticks.map(abs).filter { $0 > 0 }
        let largest = magnitudes.max() ?? abs(value)
        let smallest = magnitudes.min() ?? abs(value)
        if largest >= 10_000 {
            return siLabel(value)
        }
        if smallest < 1e-3 {
            return HumanFormat.scientific(value, digits: 3)
        }
        // Decimals from the smallest gap between neighbouring ticks.
        let sorted = ticks.sorted()
        var gap = abs(value)
        for (a, b) in zip(sorted, sorted.dropFirst()) where b - a > 0 { gap = min(gap, b - a) }
        let decimals = max(0, min(6, Int(-floor(log10(gap) + 1e-9))))
        return String(format: "%.\(decimals)f", value)
    }

    /// `2.5M`, `10K`, `1.2B`: a value with a suffix and trailing zeros dropped.
    static func siLabel(_ value: Double) -> String {
        let magnitude = abs(value)
        for (scale, suffix) in [(1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")] where magnitude >= scale {
            return HumanFormat.trimZeros(String(format: "%.3f", value / scale)) + suffix
        }
        return HumanFormat.trimZeros(String(format: "%.3f", value))
    }
}
