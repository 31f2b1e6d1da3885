import FableTraining
import Foundation

/// Options shared by the report's charts, page and table.
public struct ReportOptions: Sendable {
    /// The page title.
    public var title: String
    /// Draw losses on a logarithmic y axis.
    public var logScale: Bool
    /// The loss that ranks runs and is drawn bold (the other one is drawn faint).
    public var metric: ReportMetric

    public init(title: String = "Fable training report", logScale: Bool = false, metric: ReportMetric = .valLoss) {
        self.title = title
        self.logScale = logScale
        self.metric = metric
    }
}

/// A chart of the report with the file name it is written under.
public struct NamedChart {
    /// The file name, e.g. `loss_vs_steps.svg`.
    public var fileName: String
    public var chart: SVGChart
}

/// Builds the report's charts from run summaries: loss against steps, tokens and
/// wall-clock time, the learning rate and the gradient norm against steps. Every run keeps
/// one colour in every chart (by its position in the input), so the charts and the table
/// read together.
public struct ReportCharts {
    public let runs: [RunSummary]
    public let options: ReportOptions

    public init(runs: [RunSummary], options: ReportOptions) {
        self.runs = runs
        self.options = options
    }

    /// The colour and line style of the run at `index` in the input order.
    public func style(ofRunAt index: Int) -> (colour: String, lineStyle: ChartLineStyle) {
        ChartPalette.style(index)
    }

    /// The x axes the loss is drawn against.
    enum LossAxis: CaseIterable {
        case steps, tokens, time
    }

    /// All charts that have data to show, in page order.
    public func charts() -> [NamedChart] {
        var charts: [NamedChart] = []
        guard runs.contains(where: { !$0.isEmpty }) else { return [] }
        charts.append(NamedChart(fileName: "loss_vs_steps.svg", chart: lossChart(.steps)))
        if let zoomed = zoomedLossChart() {
            charts.append(NamedChart(fileName: "loss_vs_steps_end.svg", chart: zoomed))
        }
        if runs.contains(where: { $0.records.contains { $0.tokens != nil } }) {
            charts.append(NamedChart(fileName: "loss_vs_tokens.svg", chart: lossChart(.tokens)))
        }
        if runs.contains(where: { $0.records.contains { $0.wallSeconds != nil } }) {
            charts.append(NamedChart(fileName: "loss_vs_time.svg", chart: lossChart(.time)))
        }
        if runs.contains(where: { $0.records.contains { $0.lr != nil } }) {
            // A sweep over decades of learning rates reads best on a log axis.
            let peaks = runs.compactMap { $0.records.compactMap(\.lr).filter { $0.isFinite && $0 > 0 }.max() }
            let wide = (peaks.max() ?? 1) / max(peaks.min() ?? 1, 1e-30) >= 10
            charts.append(NamedChart(fileName: "lr_vs_step.svg", chart: lineChart(
                title: "Learning rate", xLabel: "step", yLabel: "learning rate", value: \.lr, logScale: wide)))
        }
        if runs.contains(where: { $0.records.contains { $0.gradNorm != nil } }) {
            let norms = runs.flatMap { $0.records.compactMap(\.gradNorm) }.filter { $0.isFinite && $0 > 0 }
            let wide = (norms.max() ?? 1) / max(norms.min() ?? 1, 1e-30) > 50
            charts.append(NamedChart(fileName: "grad_norm_vs_step.svg", chart: lineChart(
                title: "Gradient norm (before clipping)", xLabel: "step", yLabel: "gradient L2 norm",
                value: \.gradNorm, logScale: wide)))
        }
        return charts
    }

    // MARK: - Loss charts

    /// How wall-clock time is shown: the unit follows the longest run.
    func timeUnit() -> (divisor: Double, name: String) {
        let longest = runs.compactMap(\.wallSeconds).filter(\.isFinite).max() ?? 0
        if longest >= 3 * 3600 { return (3600, "hours") }
        if longest >= 180 { return (60, "minutes") }
        return (1, "seconds")
    }

    func lossChart(_ axis: LossAxis) -> SVGChart {
        let unit = timeUnit()
        let x: (MetricsRecord) -> Double? = {
            switch axis {
            case .steps: return { Double($0.step) }
            case .tokens: return { $0.tokens.map(Double.init) }
            case .time: return { $0.wallSeconds.map { $0 / unit.divisor } }
            }
        }()
        let primary: KeyPath<MetricsRecord, Double?> = options.metric == .valLoss ? \.valLoss : \.trainLoss
        let secondary: KeyPath<MetricsRecord, Double?> = options.metric == .valLoss ? \.trainLoss : \.valLoss
        let anyPrimary = runs.contains { $0.records.contains { $0[keyPath: primary] != nil } }

        var series: [ChartSeries] = []
        for (index, run) in runs.enumerated() where !run.isEmpty {
            let (colour, lineStyle) = style(ofRunAt: index)
            let label = run.diverged ? run.name + " (diverged)" : run.name
            let main = points(run, x: x, y: primary)
            let other = points(run, x: x, y: secondary)
            // The secondary loss is drawn faint behind; when the run lacks the primary one
            // it is all there is, so it is drawn as the main line.
            if anyPrimary && !main.isEmpty {
                if !other.isEmpty {
                    series.append(ChartSeries(name: run.name, points: other, colour: colour, lineStyle: lineStyle,
                                              lineWidth: 1.2, opacity: 0.35, inLegend: false))
                }
                series.append(ChartSeries(name: label, points: main, colour: colour, lineStyle: lineStyle,
                                          lineWidth: 2.2, showsPoints: main.count <= 80, marksEnd: run.diverged))
            } else {
                series.append(ChartSeries(name: label, points: other, colour: colour, lineStyle: lineStyle,
                                          lineWidth: 1.8, marksEnd: run.diverged))
            }
        }

        let primaryName = anyPrimary ? options.metric.title : (options.metric == .valLoss ? ReportMetric.trainLoss : .valLoss).title
        let secondaryName = options.metric == .valLoss ? ReportMetric.trainLoss.title : ReportMetric.valLoss.title
        var notes: [LegendItem] = []
        let hasSecondary = anyPrimary && series.contains { !$0.inLegend }
        if hasSecondary {
            notes.append(.heading("LINES"))
            notes.append(LegendItem(label: primaryName, colour: "#57606a", lineWidth: 2.2, showsPoint: true))
            notes.append(LegendItem(label: secondaryName, colour: "#57606a", lineWidth: 1.2, opacity: 0.45))
        }
        if runs.contains(where: \.diverged) {
            notes.append(LegendItem(label: "diverged", colour: "#57606a", lineWidth: 0, marksEnd: true))
        }

        let (xLabel, titleSuffix): (String, String) = {
            switch axis {
            case .steps: return ("step", "steps")
            case .tokens: return ("tokens", "tokens")
            case .time: return ("wall-clock time (\(unit.name))", "wall-clock time")
            }
        }()
        let title = (hasSecondary ? "Loss" : primaryName.prefix(1).uppercased() + primaryName.dropFirst()) + " vs " + titleSuffix
        var chart = SVGChart(
            title: title,
            subtitle: hasSecondary ? "bold: \(primaryName), faint: \(secondaryName)" : nil,
            xLabel: xLabel, yLabel: "loss (nats/token)", series: series,
            yScale: options.logScale ? .logarithmic : .linear, legendNotes: notes)
        chart.yCeiling = lossCeiling(series)
        return chart
    }

    /// The top of a loss chart: a little above the highest starting loss, so a run that
    /// explodes is cut at the top (its cross at the border) instead of flattening every
    /// other curve.
    func lossCeiling(_ series: [ChartSeries]) -> Double? {
        let starts = series.compactMap { $0.points.first(where: { $0.y.isFinite })?.y }
        return starts.max().map { $0 * 1.1 }
    }

    /// The loss against steps over the second half of training, on a y axis fitted to
    /// those values: where runs that all start alike are told apart. Only the bold
    /// (ranking) loss is drawn; diverged runs are drawn but do not stretch the axis. Nil
    /// when there is too little to show.
    func zoomedLossChart() -> SVGChart? {
        var chart = lossChart(.steps)
        let bold = chart.series.filter(\.inLegend)
        let usable = { (p: ChartPoint) in p.x.isFinite && p.y.isFinite && (!self.options.logScale || p.y > 0) }
        let healthy = bold.filter { !$0.marksEnd }
        guard let xEnd = healthy.compactMap({ $0.points.filter(usable).last?.x }).max(),
              let xFirst = healthy.compactMap({ $0.points.filter(usable).first?.x }).min(), xEnd > xFirst else { return nil }
        let cut = xFirst + (xEnd - xFirst) / 2
        let values = healthy.flatMap { $0.points.filter { usable($0) && $0.x >= cut }.map(\.y) }
        guard values.count >= 4, let lo = values.min(), let hi = values.max(), hi > lo else { return nil }
        let pad = (hi - lo) * 0.08
        chart.series = bold
        chart.legendNotes = chart.legendNotes.filter(\.marksEnd)
        chart.subtitle = nil
        chart.yCeiling = nil
        chart.yDomain = options.logScale ? lo / 1.01 ... hi * 1.01 : (lo - pad)...(hi + pad)
        chart.xDomain = cut...xEnd
        let name = drawnLossName()
        chart.title = name.prefix(1).uppercased() + name.dropFirst() + " vs steps, second half (zoomed)"
        return chart
    }

    /// The loss drawn bold: the ranking loss, or the other one when no run logged it.
    func drawnLossName() -> String {
        let logged = runs.contains { $0.records.contains { (options.metric == .valLoss ? $0.valLoss : $0.trainLoss) != nil } }
        if logged { return options.metric.title }
        return (options.metric == .valLoss ? ReportMetric.trainLoss : .valLoss).title
    }

    // MARK: - Other charts

    func lineChart(title: String, xLabel: String, yLabel: String, value: KeyPath<MetricsRecord, Double?>,
                   logScale: Bool) -> SVGChart {
        var series: [ChartSeries] = []
        for (index, run) in runs.enumerated() where !run.isEmpty {
            let (colour, lineStyle) = style(ofRunAt: index)
            let p = points(run, x: { Double($0.step) }, y: value)
            guard !p.isEmpty else { continue }
            series.append(ChartSeries(name: run.name, points: p, colour: colour, lineStyle: lineStyle, lineWidth: 1.8))
        }
        return SVGChart(title: title, xLabel: xLabel, yLabel: yLabel, series: series,
                        yScale: logScale ? .logarithmic : .linear)
    }

    func points(_ run: RunSummary, x: (MetricsRecord) -> Double?, y: KeyPath<MetricsRecord, Double?>) -> [ChartPoint] {
        run.records.compactMap { r in
            guard let yv = r[keyPath: y], let xv = x(r) else { return nil }
            return ChartPoint(x: xv, y: yv)
        }
    }
}
