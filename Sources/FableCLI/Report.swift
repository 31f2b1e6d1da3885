import ArgumentParser
import FableReports
import FableTraining
import Foundation

extension ReportMetric: ExpressibleByArgument {}

/// `fable report`: compares training runs in one HTML page with SVG learning curves.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare training runs: an HTML page with learning curves and a ranked table, plus SVG charts.",
        discussion: """
        Each RUN_DIR is a folder written by `fable train`: metrics.jsonl (required) and \
        config.json (optional). The page is self-contained (inline SVG, no network, no \
        JavaScript); the charts are also written as .svg files beside it. The ranked table \
        is printed here too.
        """
    )

    @Argument(help: ArgumentHelp("Run directories to compare.", valueName: "RUN_DIR"))
    var runDirectories: [String]

    @Option(name: .long, help: ArgumentHelp(
        "Folder for index.html and the SVG charts. (default: report/ in the run directories' common parent folder)",
        valueName: "DIR"))
    var out: String?

    @Flag(name: .long, help: "Draw losses on a logarithmic y axis.")
    var logScale = false

    @Option(name: .long, help: "Title of the page.")
    var title = "Fable training report"

    @Option(name: .long, help: "Loss that ranks the runs and is drawn bold: val_loss or train_loss.")
    var metric: ReportMetric = .valLoss

    @Flag(name: .long, help: "Keep the runs in the order given. By default they are ordered by the numeric settings that differ between them (e.g. lr), which sets the legend's order and colours.")
    var keepOrder = false

    func validate() throws {
        if runDirectories.isEmpty { throw ValidationError("give at least one RUN_DIR") }
    }

    func run() throws {
        let directories = runDirectories.map { URL(fileURLWithPath: $0).standardizedFileURL }
        let names = Report.displayNames(directories)
        let loaded = try zip(directories, names).map { try RunSummary.load($0, name: $1) }
        let runs = keepOrder ? loaded : HyperparameterColumns.orderedBySettings(loaded)
        let output = out.map { URL(fileURLWithPath: $0).standardizedFileURL }
            ?? Report.commonParent(directories).appendingPathComponent("report")

        let report = HTMLReport(runs: runs, options: ReportOptions(title: title, logScale: logScale, metric: metric))
        let files = try report.write(to: output)

        print("report: \(files.page.path)")
        if !files.charts.isEmpty {
            print("charts: \(files.charts.map(\.lastPathComponent).joined(separator: ", ")) in \(output.path)")
        }
        print("")
        if runs.allSatisfy(\.isEmpty) {
            print("None of the runs has logged metrics yet; the page says so.")
        }
        print(report.table.text(), terminator: "")
        let diverged = runs.filter(\.diverged)
        for run in diverged {
            let d = run.divergence!
            print("\(run.name): diverged\(d.step.map { " at step \($0)" } ?? ""): \(d.reason)")
        }
        for run in runs where run.droppedTruncatedLine {
            print("\(run.name): the last line of metrics.jsonl was cut short and was ignored")
        }
    }

    /// Folder names, made unique by adding parent folders where two runs share a name.
    static func displayNames(_ directories: [URL]) -> [String] {
        var depth = 1
        while true {
            let names = directories.map { url -> String in
                let parts = url.pathComponents.filter { $0 != "/" }
                return parts.suffix(depth).joined(separator: "/")
            }
            let maxDepth = directories.map { $0.pathComponents.count }.max() ?? 1
            if Set(names).count == names.count || depth >= maxDepth { return names }
            depth += 1
        }
    }

    /// The deepest folder containing every run directory.
    static func commonParent(_ directories: [URL]) -> URL {
        let parents = directories.map { $0.deletingLastPathComponent().pathComponents }
        guard var common = parents.first else { return URL(fileURLWithPath: ".") }
        for parts in parents.dropFirst() {
            var n = 0
            while n < min(common.count, parts.count), common[n] == parts[n] { n += 1 }
            common = Array(common.prefix(n))
        }
        if common.isEmpty { return URL(fileURLWithPath: "/") }
        return URL(fileURLWithPath: NSString.path(withComponents: common))
    }
}
