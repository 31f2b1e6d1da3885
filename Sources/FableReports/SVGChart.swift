import FableTraining
import Foundation

/// A point of a chart series, in data units.
public struct ChartPoint: Equatable, Sendable {
    public var x: Double
    public var y: Double
    public init(x: Double, y: Double) { self.x = x; self.y = y }
}

/// How a line is drawn.
public enum ChartLineStyle: Equatable, Sendable {
    case solid
    case dashed
    case dotted

    var dashArray: String? {
        switch self {
        case .solid: return nil
        case .dashed: return "7 4"
        case .dotted: return "2 3"
        }
    }
}

/// One line of a chart.
public struct ChartSeries: Sendable {
    /// The name shown in the legend.
    public var name: String
    /// The points in drawing order; non-finite values (and non-positive ones on a log
    /// axis) leave a gap.
    public var points: [ChartPoint]
    /// A CSS colour, e.g. one of ``ChartPalette/colours``.
    public var colour: String
    public var lineStyle: ChartLineStyle
    public var lineWidth: Double
    public var opacity: Double
    /// Draw a dot at every visible point (for sparse series such as validation loss).
    public var showsPoints: Bool
    /// Draw a cross at the last visible point: the run diverged there.
    public var marksEnd: Bool
    /// List the series in the legend.
    public var inLegend: Bool

    public init(name: String, points: [ChartPoint], colour: String, lineStyle: ChartLineStyle = .solid,
                lineWidth: Double = 2, opacity: Double = 1, showsPoints: Bool = false,
                marksEnd: Bool = false, inLegend: Bool = true) {
        self.name = name
        self.points = points
        self.colour = colour
        self.lineStyle = lineStyle
        self.lineWidth = lineWidth
        self.opacity = opacity
        self.showsPoints = showsPoints
        self.marksEnd = marksEnd
        self.inLegend = inLegend
    }
}

/// One row of a legend: a sample of a line and its label.
public struct LegendItem: Sendable {
    public var label: String
    public var colour: String
    public var lineStyle: ChartLineStyle
    public var lineWidth: Double
    public var opacity: Double
    public var showsPoint: Bool
    public var marksEnd: Bool
    /// A heading row: muted text without a line sample.
    public var isHeading: Bool

    public init(label: String, colour: String, lineStyle: ChartLineStyle = .solid, lineWidth: Double = 2,
                opacity: Double = 1, showsPoint: Bool = false, marksEnd: Bool = false) {
        self.isHeading = false
        self.label = label
        self.colour = colour
        self.lineStyle = lineStyle
        self.lineWidth = lineWidth
        self.opacity = opacity
        self.showsPoint = showsPoint
        self.marksEnd = marksEnd
    }

    /// A heading row in the legend, e.g. "lines".
    public static func heading(_ label: String) -> LegendItem {
        var item = LegendItem(label: label, colour: "none", lineWidth: 0)
        item.isHeading = true
        return item
    }
}

/// Colours that stay distinct for the common forms of colour blindness (Okabe and Ito,
/// "Color Universal Design"), ordered for a white background; the yellow is left out as
/// it is too faint on white.
public enum ChartPalette {
    public static let colours = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000"]

    /// The colour of the `index`-th series; after the palette runs out, a dashed style
    /// keeps runs apart.
    public static func style(_ index: Int) -> (colour: String, lineStyle: ChartLineStyle) {
        let round = index / colours.count
        return (colours[index % colours.count], [.solid, .dashed, .dotted][round % 3])
    }
}

/// A line chart drawn as SVG text: axes with 1-2-5 ticks, a linear or logarithmic y axis,
/// several series with a legend, crosses where runs diverged, title and axis labels.
///
/// Points outside the axes are clipped exactly (the line is cut at the border), dense
/// series are thinned to a few points per pixel column, and nothing but SVG is produced,
/// so the result can be written to a file or placed inline in HTML.
public struct SVGChart {
    public var title: String
    public var subtitle: String?
    public var xLabel: String
    public var yLabel: String
    public var series: [ChartSeries]
    /// Linear (default) or logarithmic y axis.
    public var yScale: ChartScale.Kind
    /// Fixed x range; nil fits the data (widened to nice ticks).
    public var xDomain: ClosedRange<Double>?
    /// Fixed y range; nil fits the data. Values outside are clipped.
    public var yDomain: ClosedRange<Double>?
    /// When fitting the data, the y axis stops here: values above are clipped (so one
    /// exploding series does not flatten the others).
    public var yCeiling: Double?
    /// When fitting the data and every x is non-negative, start the x axis at 0.
    public var xStartsAtZero: Bool
    /// Legend rows added after the series' own rows, e.g. a key to line styles.
    public var legendNotes: [LegendItem]
    /// Labels x ticks; default ``ChartScale/tickLabel(_:among:)``.
    public var xTickLabel: (Double, [Double]) -> String
    /// Labels y ticks; default ``ChartScale/tickLabel(_:among:)``.
    public var yTickLabel: (Double, [Double]) -> String
    public var width: Double
    public var height: Double
    /// Shown in the plot area when no series has a visible point.
    public var emptyMessage: String

    public init(title: String, subtitle: String? = nil, xLabel: String, yLabel: String,
                series: [ChartSeries], yScale: ChartScale.Kind = .linear,
                xDomain: ClosedRange<Double>? = nil, yDomain: ClosedRange<Double>? = nil,
                legendNotes: [LegendItem] = [], width: Double = 760, height: Double = 420,
                emptyMessage: String = "no data") {
        self.title = title
        self.subtitle = subtitle
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.yScale = yScale
        self.xDomain = xDomain
        self.yDomain = yDomain
        self.legendNotes = legendNotes
        self.yCeiling = nil
        self.xStartsAtZero = true
        self.xTickLabel = ChartScale.tickLabel
        self.yTickLabel = ChartScale.tickLabel
        self.width = width
        self.height = height
        self.emptyMessage = emptyMessage
    }

    // MARK: - Layout

    /// Where things go: the plot rectangle, the two scales and their ticks.
    public struct Layout {
        public var plotLeft: Double
        public var plotTop: Double
        public var plotRight: Double
        public var plotBottom: Double
        public var x: ChartScale
        public var y: ChartScale
        public var xTicks: [Double]
        public var yTicks: [Double]
        public var legendX: Double
    }

    static let fontSize = 12.0
    static let characterWidth = 0.6 * fontSize  // a generous average for sans-serif text

    var legendItems: [LegendItem] {
        series.filter(\.inLegend).map {
            LegendItem(label: $0.name, colour: $0.colour, lineStyle: $0.lineStyle, lineWidth: max(2, $0.lineWidth),
                       opacity: max(0.8, $0.opacity), showsPoint: $0.showsPoints, marksEnd: $0.marksEnd)
        } + legendNotes
    }

    static let legendMaxCharacters = 30

    /// Computes the plot rectangle, the scales and the ticks for this chart's data.
    public func layout() -> Layout {
        let items = legendItems
        let longest = items.map { min(SVGChart.legendMaxCharacters, $0.label.count) }.max() ?? 0
        let legendWidth = items.isEmpty ? 0 : min(260, 44 + Double(longest) * SVGChart.characterWidth)
        let top = subtitle == nil ? 44.0 : 62.0
        let left = 70.0, bottom = height - 52, right = width - 20 - legendWidth

        var xs: [Double] = [], ys: [Double] = []
        for s in series {
            for p in s.points where p.x.isFinite && p.y.isFinite && (yScale == .linear || p.y > 0) {
                xs.append(p.x); ys.append(p.y)
            }
        }
        // The x axis spans the data exactly (from 0 for counts and times): steps, tokens and
        // seconds read best without a stretch of empty axis after the last point.
        let xFit: ClosedRange<Double>
        if let xDomain { xFit = xDomain } else if var lo = xs.min(), let hi = xs.max() {
            if xStartsAtZero && lo >= 0 { lo = 0 }
            xFit = lo...hi
        } else { xFit = 0...1 }
        let x = ChartScale(kind: .linear, domain: xFit, start: left, end: right)

        let yMaxCount = max(4, Int((bottom - top) / 32))
        var yFit: ClosedRange<Double>
        if let ceiling = yCeiling, yDomain == nil { ys = ys.filter { $0 <= ceiling } }
        if let yDomain { yFit = yDomain } else if let lo = ys.min(), let hi = ys.max() {
            if yScale == .logarithmic {
                let pad = pow(10, max(0.02, (log10(hi) - log10(lo)) * 0.04))
                yFit = lo / pad ... hi * pad
            } else {
                yFit = ChartScale.niceDomain(lo, hi, maxCount: yMaxCount)
            }
        } else { yFit = yScale == .logarithmic ? 1...10 : 0...1 }
        if yScale == .logarithmic && yFit.lowerBound <= 0 {
            yFit = (yFit.upperBound > 0 ? yFit.upperBound / 10 : 1) ... max(yFit.upperBound, 10)
        }
        let y = ChartScale(kind: yScale, domain: yFit, start: bottom, end: top)

        // Thin ticks that would sit closer than a label's height (log axes space them unevenly).
        var yTicks: [Double] = []
        for tick in y.ticks(maxCount: yMaxCount) {
            guard let p = y.pixel(tick) else { continue }
            if let last = yTicks.last, let lp = y.pixel(last), abs(lp - p) < 16 { continue }
            yTicks.append(tick)
        }
        let xTicks = x.ticks(maxCount: max(3, Int((right - left) / 90)))
        return Layout(plotLeft: left, plotTop: top, plotRight: right, plotBottom: bottom,
                      x: x, y: y, xTicks: xTicks, yTicks: yTicks, legendX: right + 20)
    }

    // MARK: - Rendering

    /// The chart as SVG text.
    /// - Parameter standalone: include the XML namespace (needed in a `.svg` file; inline
    ///   SVG in HTML does without it).
    public func svg(standalone: Bool = true) -> String {
        let l = layout()
        var out = ""
        let namespace = standalone ? " xmlns=\"http://www.w3.org/2000/svg\"" : ""
        out += "<svg\(namespace) width=\"\(n(width))\" height=\"\(n(height))\" viewBox=\"0 0 \(n(width)) \(n(height))\""
        out += " font-family=\"-apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif\" font-size=\"12\""
        out += " role=\"img\" aria-label=\"\(escape(title))\">\n"
        out += "<title>\(escape(title))</title>\n"
        out += "<rect x=\"0\" y=\"0\" width=\"\(n(width))\" height=\"\(n(height))\" fill=\"#ffffff\"/>\n"

        // Title and subtitle.
        out += "<text x=\"\(n(l.plotLeft))\" y=\"24\" font-size=\"15\" font-weight=\"600\" fill=\"#1f2328\">\(escape(title))</text>\n"
        if let subtitle {
            out += "<text x=\"\(n(l.plotLeft))\" y=\"42\" fill=\"#656d76\">\(escape(subtitle))</text>\n"
        }

        // Grid, ticks and their labels.
        out += "<g stroke=\"#e6e8eb\" stroke-width=\"1\">\n"
        for tick in l.yTicks {
            guard let p = l.y.pixel(tick) else { continue }
            out += "<line x1=\"\(n(l.plotLeft))\" y1=\"\(n(p))\" x2=\"\(n(l.plotRight))\" y2=\"\(n(p))\"/>\n"
        }
        for tick in l.xTicks {
            guard let p = l.x.pixel(tick) else { continue }
            out += "<line x1=\"\(n(p))\" y1=\"\(n(l.plotTop))\" x2=\"\(n(p))\" y2=\"\(n(l.plotBottom))\"/>\n"
        }
        out += "</g>\n"
        out += "<g fill=\"#57606a\">\n"
        for tick in l.yTicks {
            guard let p = l.y.pixel(tick) else { continue }
            out += "<text x=\"\(n(l.plotLeft - 8))\" y=\"\(n(p + 4))\" text-anchor=\"end\">\(escape(yTickLabel(tick, l.yTicks)))</text>\n"
        }
        for tick in l.xTicks {
            guard let p = l.x.pixel(tick) else { continue }
            out += "<text x=\"\(n(p))\" y=\"\(n(l.plotBottom + 18))\" text-anchor=\"middle\">\(escape(xTickLabel(tick, l.xTicks)))</text>\n"
        }
        out += "</g>\n"
        out += "<path d=\"M\(n(l.plotLeft)),\(n(l.plotTop))V\(n(l.plotBottom))H\(n(l.plotRight))\" fill=\"none\" stroke=\"#8c959f\" stroke-width=\"1\"/>\n"

        // Axis labels.
        out += "<text x=\"\((n((l.plotLeft + l.plotRight) / 2)))\" y=\"\(n(height - 12))\" text-anchor=\"middle\" fill=\"#1f2328\">\(escape(xLabel))</text>\n"
        let yMid = (l.plotTop + l.plotBottom) / 2
        out += "<text x=\"18\" y=\"\(n(yMid))\" text-anchor=\"middle\" fill=\"#1f2328\" transform=\"rotate(-90 18 \(n(yMid)))\">\(escape(yLabel))</text>\n"

        // Series: thin, faint ones first so the bold ones sit on top.
        var anyVisible = false
        let order = series.indices.sorted { (series[$0].opacity, series[$0].lineWidth) < (series[$1].opacity, series[$1].lineWidth) }
        for index in order {
            let s = series[index]
            let lines = visiblePolylines(s, l)
            guard !lines.isEmpty else { continue }
            anyVisible = true
            out += "<g>\n"
            var d = ""
            for line in lines {
                d += "M" + line.map { "\(n($0.x)),\(n($0.y))" }.joined(separator: "L")
            }
            out += "<path d=\"\(d)\" fill=\"none\" stroke=\"\(s.colour)\" stroke-width=\"\(n(s.lineWidth))\""
            if s.opacity < 1 { out += " stroke-opacity=\"\(n2(s.opacity))\"" }
            if let dash = s.lineStyle.dashArray { out += " stroke-dasharray=\"\(dash)\"" }
            out += " stroke-linejoin=\"round\" stroke-linecap=\"round\"><title>\(escape(s.name))</title></path>\n"
            if s.showsPoints {
                for p in lines.joined() {
                    out += "<circle cx=\"\(n(p.x))\" cy=\"\(n(p.y))\" r=\"2.6\" fill=\"\(s.colour)\"/>\n"
                }
            }
            if s.marksEnd, let end = lines.last?.last {
                out += cross(at: end, colour: s.colour, size: 6)
            }
            out += "</g>\n"
        }
        if !anyVisible {
            out += "<text x=\"\(n((l.plotLeft + l.plotRight) / 2))\" y=\"\(n(yMid))\" text-anchor=\"middle\" fill=\"#8c959f\">\(escape(emptyMessage))</text>\n"
        }

        out += legend(l)
        out += "</svg>\n"
        return out
    }

    private func legend(_ l: Layout) -> String {
        let items = legendItems
        guard !items.isEmpty else { return "" }
        var out = "<g>\n"
        let rowHeight = 20.0
        let capacity = max(1, Int((l.plotBottom - l.plotTop) / rowHeight))
        for (row, item) in items.prefix(capacity).enumerated() {
            let y = l.plotTop + 8 + Double(row) * rowHeight
            let x0 = l.legendX, x1 = l.legendX + 26
            if item.isHeading {
                out += "<text x=\"\(n(x0))\" y=\"\(n(y + 4))\" fill=\"#656d76\" font-size=\"11\">\(escape(item.label))</text>\n"
                continue
            }
            out += "<line x1=\"\(n(x0))\" y1=\"\(n(y))\" x2=\"\(n(x1))\" y2=\"\(n(y))\" stroke=\"\(item.colour)\" stroke-width=\"\(n(item.lineWidth))\""
            if item.opacity < 1 { out += " stroke-opacity=\"\(n2(item.opacity))\"" }
            if let dash = item.lineStyle.dashArray { out += " stroke-dasharray=\"\(dash)\"" }
            out += "/>\n"
            if item.showsPoint {
                out += "<circle cx=\"\(n((x0 + x1) / 2))\" cy=\"\(n(y))\" r=\"2.6\" fill=\"\(item.colour)\"/>\n"
            }
            if item.marksEnd { out += cross(at: (x1, y), colour: item.colour, size: 5) }
            var label = item.label
            if label.count > SVGChart.legendMaxCharacters {
                label = String(label.prefix(SVGChart.legendMaxCharacters - 1)) + "…"
            }
            out += "<text x=\"\(n(x1 + 10))\" y=\"\(n(y + 4))\" fill=\"#1f2328\">\(escape(label))<title>\(escape(item.label))</title></text>\n"
        }
        if items.count > capacity {
            let y = l.plotTop + 8 + Double(capacity) * rowHeight
            out += "<text x=\"\(n(l.legendX))\" y=\"\(n(y + 4))\" fill=\"#656d76\">+\(items.count - capacity) more</text>\n"
        }
        return out + "</g>\n"
    }

    private func cross(at p: (x: Double, y: Double), colour: String, size: Double) -> String {
        let d = "M\(n(p.x - size)),\(n(p.y - size))L\(n(p.x + size)),\(n(p.y + size))M\(n(p.x - size)),\(n(p.y + size))L\(n(p.x + size)),\(n(p.y - size))"
        return "<path d=\"\(d)\" stroke=\"#ffffff\" stroke-width=\"5\" stroke-linecap=\"round\"/>"
            + "<path d=\"\(d)\" stroke=\"\(colour)\" stroke-width=\"2.4\" stroke-linecap=\"round\"><title>diverged</title></path>\n"
    }

    // MARK: - Geometry

    /// The pixel polylines of a series inside the plot: gaps at values without a pixel,
    /// dense runs thinned, every segment clipped to the plot rectangle.
    func visiblePolylines(_ s: ChartSeries, _ l: Layout) -> [[(x: Double, y: Double)]] {
        var pixels: [(x: Double, y: Double)?] = s.points.map { p in
            guard let px = l.x.pixel(p.x), let py = l.y.pixel(p.y) else { return nil }
            return (px, py)
        }
        if pixels.count > Int(4 * (l.plotRight - l.plotLeft)) { pixels = SVGChart.thin(pixels) }
        var lines: [[(x: Double, y: Double)]] = []
        var current: [(x: Double, y: Double)] = []
        func close() { if !current.isEmpty { lines.append(current); current = [] } }
        var previous: (x: Double, y: Double)? = nil
        for p in pixels {
            guard let p else { close(); previous = nil; continue }
            defer { previous = p }
            guard let a = previous else {
                // A lone point (first, or after a gap) shows if it is inside.
                if SVGChart.inside(p, l) { current = [p] }
                continue
            }
            guard let (c0, c1) = SVGChart.clip(a, p, l) else { close(); continue }
            if let last = current.last, abs(last.x - c0.x) < 1e-6, abs(last.y - c0.y) < 1e-6 {
                current.append(c1)
            } else {
                close()
                current = [c0, c1]
            }
        }
        close()
        return lines
    }

    static func inside(_ p: (x: Double, y: Double), _ l: Layout) -> Bool {
        p.x >= l.plotLeft - 1e-9 && p.x <= l.plotRight + 1e-9 && p.y >= l.plotTop - 1e-9 && p.y <= l.plotBottom + 1e-9
    }

    /// Liang-Barsky clipping of the segment a-b to the plot rectangle; nil when it misses.
    static func clip(_ a: (x: Double, y: Double), _ b: (x: Double, y: Double), _ l: Layout)
        -> ((x: Double, y: Double), (x: Double, y: Double))? {
        let dx = b.x - a.x, dy = b.y - a.y
        var t0 = 0.0, t1 = 1.0
        let checks = [(-dx, a.x - l.plotLeft), (dx, l.plotRight - a.x), (-dy, a.y - l.plotTop), (dy, l.plotBottom - a.y)]
        for (p, q) in checks {
            if p == 0 {
                if q < 0 { return nil }
                continue
            }
            let r = q / p
            if p < 0 { if r > t1 { return nil }; t0 = max(t0, r) } else { if r < t0 { return nil }; t1 = min(t1, r) }
        }
        return ((a.x + t0 * dx, a.y + t0 * dy), (a.x + t1 * dx, a.y + t1 * dy))
    }

    /// Keeps, per pixel column, the first, lowest, highest and last point (in order): the
    /// line looks the same with far fewer points. Gaps (nil) are kept.
    static func thin(_ pixels: [(x: Double, y: Double)?]) -> [(x: Double, y: Double)?] {
        var out: [(x: Double, y: Double)?] = []
        var bucket: [(x: Double, y: Double)] = []
        var column = Double.nan
        func flush() {
            guard !bucket.isEmpty else { return }
            if bucket.count <= 4 { out.append(contentsOf: bucket.map { $0 }); bucket = []; return }
            var keep = Set([0, bucket.count - 1])
            keep.insert(bucket.indices.min { bucket[$0].y < bucket[$1].y }!)
            keep.insert(bucket.indices.max { bucket[$0].y < bucket[$1].y }!)
            for i in keep.sorted() { out.append(bucket[i]) }
            bucket = []
        }
        for p in pixels {
            guard let p else { flush(); out.append(nil); column = .nan; continue }
            let c = p.x.rounded(.down)
            if c != column { flush(); column = c }
            bucket.append(p)
        }
        flush()
        return out
    }

    // MARK: - Text

    /// A pixel coordinate with one decimal, no trailing `.0`.
    func n(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(format: "%.1f", r)
    }

    func n2(_ v: Double) -> String { String(format: "%.2f", v) }
}

extension SVGChart {
    func escape(_ text: String) -> String { Markup.escape(text) }
}
