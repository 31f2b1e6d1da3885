import FableFormats
import FableTraining
import Foundation

/// One self-contained HTML page comparing training runs: a ranked table of the runs with
/// their key hyperparameters, the learning curves as inline SVG, and each run's details.
/// It needs no network and no JavaScript; the charts are also written as `.svg` files.
public struct HTMLReport {
    public let runs: [RunSummary]
    public let options: ReportOptions
    public let table: RunTable
    public let charts: [NamedChart]

    public init(runs: [RunSummary], options: ReportOptions = ReportOptions()) {
        self.runs = runs
        self.options = options
        self.table = RunTable(runs: runs, metric: options.metric)
        self.charts = ReportCharts(runs: runs, options: options).charts()
    }

    /// The files a report wrote.
    public struct Files {
        /// The HTML page.
        public var page: URL
        /// The SVG charts, in page order.
        public var charts: [URL]
    }

    /// The name of the page inside the output folder.
    public static let pageName = "index.html"

    /// Writes the page and the SVG charts into `directory` (created when missing), each
    /// through a temporary file renamed into place.
    /// - Throws: ``RunReportError/writeFailed(path:reason:)``.
    @discardableResult
    public func write(to directory: URL, generatedAt date: Date = Date()) throws -> Files {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw RunReportError.writeFailed(path: directory.path, reason: error.localizedDescription)
        }
        var written: [URL] = []
        for named in charts {
            let url = directory.appendingPathComponent(named.fileName)
            try HTMLReport.writeAtomically(named.chart.svg(standalone: true), to: url)
            written.append(url)
        }
        let page = directory.appendingPathComponent(HTMLReport.pageName)
        try HTMLReport.writeAtomically(html(generatedAt: date), to: page)
        return Files(page: page, charts: written)
    }

    static func writeAtomically(_ text: String, to url: URL) throws {
        do {
            try AtomicFile.write(text, to: url)
        } catch {
            throw RunReportError.writeFailed(path: url.path, reason: error.reason)
        }
    }

    // MARK: - Page

    /// The page as HTML text.
    public func html(generatedAt date: Date = Date()) -> String {
        var out = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(e(options.title))</title>
        <style>
        \(HTMLReport.css)
        </style>
        </head>
        <body>
        <main>

        """
        out += header(date)
        if runs.allSatisfy(\.isEmpty) {
            out += "<p class=\"notice\">None of these runs has logged any metrics yet: there is nothing to chart. "
                + "Runs write <code>metrics.jsonl</code> as they train; render the report again once they have.</p>\n"
        }
        out += tableSection()
        if !charts.isEmpty { out += chartsSection() }
        out += detailsSection()
        out += "<footer>Written by <code>fable report</code> on \(e(HTMLReport.timestamp(date))).</footer>\n"
        out += "</main>\n</body>\n</html>\n"
        return out
    }

    private func e(_ text: String) -> String { Markup.escape(text) }

    private func header(_ date: Date) -> String {
        var out = "<header>\n<h1>\(e(options.title))</h1>\n"
        let diverged = runs.filter(\.diverged).count
        var facts = ["\(runs.count) run\(runs.count == 1 ? "" : "s")", "ranked by best \(options.metric.title)"]
        if diverged > 0 { facts.append("\(diverged) diverged") }
        let empty = runs.filter(\.isEmpty).count
        if empty > 0 { facts.append("\(empty) without metrics") }
        out += "<p class=\"meta\">\(e(facts.joined(separator: " · ")))</p>\n"
        if let best = table.runs.first, let loss = best.rankingLoss(options.metric) {
            let usesVal = options.metric == .valLoss && best.bestValLoss != nil
            let step = usesVal ? best.bestValLoss!.step : best.bestTrainLoss?.step
            var text = "Best: <strong>\(e(best.name))</strong> with \(usesVal ? "validation" : "training") loss "
                + "<strong>\(HumanFormat.fixed(loss, decimals: 4))</strong>"
            if let step { text += " at step \(step)" }
            if let tokens = best.tokens { text += " · \(HumanFormat.count(Double(tokens))) tokens" }
            if let seconds = best.wallSeconds { text += " · \(HumanFormat.duration(seconds))" }
            if best.diverged { text += " · <span class=\"badge bad\">diverged later</span>" }
            out += "<p class=\"best\">\(text)</p>\n"
        }
        return out + "</header>\n"
    }

    // MARK: - Table

    private func tableSection() -> String {
        // The settings that differ between runs come right after the run's name: they are
        // what the experiment asks about.
        let varying = table.hyperparameters.filter(\.varies)
        let shortTitles = RunTable.shortTitles(varying.map(\.title))
        var layout: [(column: RunTable.Column, title: String, isSetting: Bool)] = []
        for column in table.columns {
            layout.append((column, column.title, false))
            if column.title == "run" {
                layout += zip(varying, shortTitles).map { ($0, $1, true) }
            }
        }

        var out = "<section>\n<h2>Runs</h2>\n<div class=\"scroll\"><table>\n<thead><tr>"
        for (column, title, isSetting) in layout {
            let classes = [column.isNumeric ? "num" : "", isSetting ? "varies" : ""].filter { !$0.isEmpty }
            let hint = isSetting ? " title=\"\(e(column.title)): differs between runs\"" : ""
            out += "<th class=\"\(classes.joined(separator: " "))\"\(hint)>\(e(title))</th>"
        }
        out += "</tr></thead>\n<tbody>\n"
        for (row, run) in table.runs.enumerated() {
            var classes: [String] = []
            if run.diverged { classes.append("diverged") }
            if run.isEmpty { classes.append("empty") }
            if row == 0 && run.rankingLoss(options.metric) != nil { classes.append("top") }
            out += "<tr class=\"\(classes.joined(separator: " "))\">"
            for (column, _, isSetting) in layout {
                let cell = column.cells[row]
                if isSetting {
                    out += "<td class=\"\(column.isNumeric ? "num " : "")varies\">\(e(cell))</td>"
                    continue
                }
                switch column.title {
                case "run":
                    let (colour, lineStyle) = ChartPalette.style(table.inputIndices[row])
                    let swatch = run.isEmpty ? "swatch none" : (lineStyle == .solid ? "swatch" : "swatch dashed")
                    out += "<td class=\"name\"><span class=\"\(swatch)\" style=\"border-color:\(colour)\"></span>\(e(cell))</td>"
                case "status":
                    out += "<td>\(statusBadge(run))</td>"
                default:
                    out += "<td class=\"\(column.isNumeric ? "num" : "")\">\(e(cell))</td>"
                }
            }
            out += "</tr>\n"
        }
        out += "</tbody>\n</table></div>\n"
        let shared = table.hyperparameters.filter { !$0.varies }
        if !shared.isEmpty {
            let label = runs.count > 1 ? "Same in every run" : "Settings"
            out += "<p class=\"shared\"><span class=\"label\">\(label):</span> "
            out += shared.map { "<span class=\"kv\">\(e($0.title)) <b>\(e($0.cells.first { $0 != "—" } ?? "—"))</b></span>" }
                .joined(separator: " ")
            out += "</p>\n"
        }
        var notes: [String] = []
        notes.append("Losses are mean cross-entropy in nats per token; “best” is the lowest loss logged and “at step” when it was measured.")
        if !varying.isEmpty {
            notes.append("Highlighted columns are the settings that differ between runs.")
        }
        if runs.contains(where: \.diverged) {
            notes.append("Diverged runs: a non-finite loss, a <code>diverged</code> event in the log, or a training loss over \(HumanFormat.compact(RunSummary.defaultDivergenceFactor))× the first one at the end or for three logged values in a row.")
        }
        out += "<p class=\"note\">\(notes.joined(separator: " "))</p>\n</section>\n"
        return out
    }

    private func statusBadge(_ run: RunSummary) -> String {
        let status = run.status
        if run.diverged {
            let reason = run.divergence.map { $0.reason + ($0.step.map { " (step \($0))" } ?? "") } ?? ""
            return "<span class=\"badge bad\" title=\"\(e(reason))\">✕ diverged</span>"
        }
        if run.isEmpty { return "<span class=\"badge muted\">no metrics</span>" }
        if status == "finished" { return "<span class=\"badge ok\">finished</span>" }
        return "<span class=\"badge muted\">\(e(status))</span>"
    }

    // MARK: - Charts

    private func chartsSection() -> String {
        var out = "<section>\n<h2>Learning curves</h2>\n"
        if options.logScale { out += "<p class=\"note\">Losses on a logarithmic axis.</p>\n" }
        out += "<div class=\"charts\">\n"
        for named in charts {
            out += "<figure>\n" + named.chart.svg(standalone: false)
            out += "<figcaption><a href=\"\(e(named.fileName))\">\(e(named.fileName))</a></figcaption>\n</figure>\n"
        }
        return out + "</div>\n</section>\n"
    }

    // MARK: - Details

    private func detailsSection() -> String {
        var out = "<section>\n<h2>Run details</h2>\n"
        for run in table.runs {
            out += "<details>\n<summary><strong>\(e(run.name))</strong> <span class=\"path\">\(e(run.directory.path))</span></summary>\n"
            out += "<div class=\"detail\">\n"
            var facts: [(String, String)] = []
            if let step = run.lastStep { facts.append(("last step", String(step))) }
            if let planned = run.plannedSteps { facts.append(("planned steps", String(planned))) }
            if let tokens = run.tokens { facts.append(("tokens", HumanFormat.count(Double(tokens)))) }
            if let seconds = run.wallSeconds { facts.append(("wall-clock", HumanFormat.duration(seconds))) }
            if let rate = run.records.last(where: { $0.tokensPerSecond != nil })?.tokensPerSecond {
                facts.append(("tokens/s (last)", HumanFormat.count(rate)))
            }
            if let best = run.bestTrainLoss { facts.append(("best train loss", "\(HumanFormat.fixed(best.loss, decimals: 4)) at step \(best.step)")) }
            if let d = run.divergence { facts.append(("diverged", d.reason + (d.step.map { " (step \($0))" } ?? ""))) }
            facts.append(("metrics lines", String(run.records.count)))
            if run.droppedTruncatedLine { facts.append(("note", "the last line of metrics.jsonl was cut short (the run was stopped mid-write) and was ignored")) }
            if !facts.isEmpty {
                out += "<dl>" + facts.map { "<dt>\(e($0.0))</dt><dd>\(e($0.1))</dd>" }.joined() + "</dl>\n"
            }
            if !run.events.isEmpty {
                out += "<h4>Events</h4>\n<ul>"
                for event in run.events {
                    var line = "<code>\(e(event.name))</code>"
                    if let step = event.step { line += " at step \(step)" }
                    if let message = event.message { line += ": \(e(message))" }
                    out += "<li>\(line)</li>"
                }
                out += "</ul>\n"
            }
            if run.config.isEmpty {
                out += "<p class=\"note\">No <code>config.json</code> in this run directory.</p>\n"
            } else {
                out += "<h4>Configuration</h4>\n<table class=\"config\"><tbody>"
                for key in run.config.keys.sorted() {
                    out += "<tr><td>\(e(key))</td><td>\(e(HyperparameterColumns.format(run.config[key])))</td></tr>"
                }
                out += "</tbody></table>\n"
            }
            out += "</div>\n</details>\n"
        }
        return out + "</section>\n"
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }

    // MARK: - Style

    static let css = """
    :root { color-scheme: light; --fg: #1f2328; --muted: #656d76; --line: #d0d7de; --soft: #f6f8fa; --accent: #0072B2; --bad: #b3261e; --ok: #1a7f37; }
    * { box-sizing: border-box; }
    body { margin: 0; background: #fff; color: var(--fg); font: 15px/1.5 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
    main { max-width: 1120px; margin: 0 auto; padding: 32px 24px 48px; }
    h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: -0.01em; }
    h2 { font-size: 19px; margin: 36px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
    h4 { font-size: 14px; margin: 16px 0 6px; }
    .meta { color: var(--muted); margin: 0 0 12px; }
    .best { background: var(--soft); border-left: 4px solid var(--accent); padding: 10px 14px; margin: 12px 0 0; border-radius: 4px; }
    .notice { background: #fff8c5; border: 1px solid #d4a72c66; padding: 12px 14px; border-radius: 6px; }
    .note { color: var(--muted); font-size: 13px; margin: 8px 0 0; }
    .scroll { overflow-x: auto; }
    table { border-collapse: collapse; font-size: 14px; white-space: nowrap; }
    th, td { padding: 6px 9px; border-bottom: 1px solid var(--line); text-align: left; }
    th { font-weight: 600; background: var(--soft); position: sticky; top: 0; }
    td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
    th.varies { color: var(--fg); font-weight: 700; background: #ddf4ff; }
    td.varies { background: #f0f9ff; font-weight: 600; }
    tbody tr:hover td { background: #f3f4f6; }
    tr.top td { font-weight: 600; }
    tr.diverged td { color: #6e7781; }
    tr.diverged td.name { text-decoration: line-through; text-decoration-color: #b3261e88; }
    tr.empty td { color: var(--muted); font-style: italic; }
    .swatch { display: inline-block; width: 22px; height: 0; border-top: 3px solid; vertical-align: middle; margin-right: 8px; }
    .swatch.dashed { border-top-style: dashed; }
    .swatch.none { border-color: transparent !important; }
    .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; }
    .badge.bad { background: #ffebe9; color: var(--bad); }
    .badge.ok { background: #dafbe1; color: var(--ok); }
    .badge.muted { background: var(--soft); color: var(--muted); font-weight: 500; }
    .charts { display: grid; grid-template-columns: 1fr; gap: 20px; }
    figure { margin: 0; border: 1px solid var(--line); border-radius: 8px; padding: 8px; background: #fff; }
    figure svg { display: block; width: 100%; max-width: 900px; height: auto; margin: 0 auto; }
    .shared { font-size: 14px; margin: 10px 0 0; line-height: 1.9; }
    .shared .label { color: var(--muted); margin-right: 4px; }
    .kv { display: inline-block; background: var(--soft); border: 1px solid var(--line); border-radius: 4px; padding: 0 8px; margin: 0 4px 0 0; color: var(--muted); }
    .kv b { color: var(--fg); font-weight: 600; }
    figcaption { font-size: 12px; color: var(--muted); text-align: right; padding: 2px 6px 0; }
    figcaption a { color: var(--muted); }
    details { border: 1px solid var(--line); border-radius: 6px; margin: 8px 0; padding: 8px 12px; }
    summary { cursor: pointer; }
    .path { color: var(--muted); font-size: 13px; margin-left: 8px; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
    .detail { padding: 6px 0 4px; }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; font-size: 14px; }
    dt { color: var(--muted); }
    dd { margin: 0; }
    table.config td { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; padding: 3px 10px; }
    code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 0.92em; background: var(--soft); padding: 1px 4px; border-radius: 4px; }
    footer { margin-top: 40px; color: var(--muted); font-size: 13px; }
    @media print { .charts { grid-template-columns: 1fr; } details { break-inside: avoid; } }
    """
}
