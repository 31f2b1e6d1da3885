import Foundation
import Testing
import FableTestSupport
import FableTraining
@testable import FableReports

@Suite("HTMLReport: the page and its SVG files")
struct HTMLReportTests {
    func makeRuns(_ folder: TemporaryFolder) throws -> [RunSummary] {
        var runs: [RunSummary] = []
        for (i, name) in ["lr-3e-4", "lr-1e-3", "lr-1e-2 & <friends>"].enumerated() {
            var lines: [String] = []
            for step in stride(from: 10, through: 300, by: 10) {
                var loss = 2 + 7 * exp(-Double(step) / (40 + 20 * Double(i)))
                if i == 2 && step > 150 { loss = .nan }
                var line = "{\"step\":\(step),\"tokens\":\(step * 512),\"wall_seconds\":\(Double(step) * 0.7),"
                line += "\"lr\":\(0.0003 * pow(3, Double(i))),\"train_loss\":\(loss.isNaN ? "NaN" : String(loss)),\"grad_norm\":1.5"
                if step % 50 == 0 { line += ",\"val_loss\":\(loss.isNaN ? "NaN" : String(loss + 0.1))" }
                lines.append(line + "}")
                if loss.isNaN { break }
            }
            let dir = try folder.run("run\(i)", lines: lines, config: "{\"lr\":\(0.0003 * pow(3, Double(i))),\"d_model\":64}")
            runs.append(try RunSummary.load(dir, name: name))
        }
        return runs
    }

    @Test("the page names every run, marks the diverged one and needs no network")
    func pageContents() throws {
        let folder = TemporaryFolder()
        let runs = try makeRuns(folder)
        let report = HTMLReport(runs: runs, options: ReportOptions(title: "LR sweep"))
        let html = report.html()
        for name in ["lr-3e-4", "lr-1e-3", "lr-1e-2 &amp; &lt;friends&gt;"] { #expect(html.contains(name)) }
        #expect(!html.contains("<friends>"))
        #expect(!html.lowercased().contains("http"))
        #expect(!html.lowercased().contains("<script"))
        #expect(!html.lowercased().contains("<link"))
        #expect(html.contains("<title>LR sweep</title>"))
        #expect(html.contains("✕ diverged"))
        #expect(html.contains("Best: <strong>lr-3e-4</strong>"))
        let svgs = svgElements(in: html)
        #expect(svgs.count == report.charts.count)
        #expect(report.charts.map(\.fileName) == ["loss_vs_steps.svg", "loss_vs_steps_end.svg", "loss_vs_tokens.svg",
                                                  "loss_vs_time.svg", "lr_vs_step.svg", "grad_norm_vs_step.svg"])
        for svg in svgs { #expect(xmlProblem(svg) == nil) }
    }

    @Test("writing puts the page and well-formed SVG files in the folder")
    func writesFiles() throws {
        let folder = TemporaryFolder()
        let runs = try makeRuns(folder)
        let out = folder.url.appendingPathComponent("report")
        let files = try HTMLReport(runs: runs, options: ReportOptions(logScale: true)).write(to: out)
        #expect(files.page.lastPathComponent == "index.html")
        #expect(FileManager.default.fileExists(atPath: files.page.path))
        #expect(files.charts.count == 6)
        for url in files.charts {
            let svg = try String(contentsOf: url, encoding: .utf8)
            #expect(xmlProblem(svg) == nil, "\(url.lastPathComponent)")
            #expect(svg.contains("lr-1e-3"))
        }
    }

    @Test("runs without metrics give a page that says so instead of charts")
    func emptyRuns() throws {
        let folder = TemporaryFolder()
        let runs = [try RunSummary.load(try folder.run("fresh", lines: []))]
        let report = HTMLReport(runs: runs)
        #expect(report.charts.isEmpty)
        let html = report.html()
        #expect(html.contains("None of these runs has logged any metrics yet"))
        #expect(html.contains("fresh"))
        #expect(svgElements(in: html).isEmpty)
    }

    @Test("ranking by training loss when asked, and when no run has validation")
    func trainingMetric() throws {
        let folder = TemporaryFolder()
        let a = try RunSummary.load(try folder.run("a", lines: [#"{"step":1,"train_loss":5}"#, #"{"step":2,"train_loss":3}"#]))
        let b = try RunSummary.load(try folder.run("b", lines: [#"{"step":1,"train_loss":5}"#, #"{"step":2,"train_loss":2}"#]))
        let report = HTMLReport(runs: [a, b], options: ReportOptions(metric: .trainLoss))
        #expect(report.table.runs.map(\.name) == ["b", "a"])
        #expect(report.charts.first?.chart.title == "Training loss vs steps")
        let byVal = HTMLReport(runs: [a, b])
        #expect(byVal.table.runs.map(\.name) == ["b", "a"])
    }

    @Test("a run without validation is still drawn bold beside runs with it")
    func mixedValidation() throws {
        let folder = TemporaryFolder()
        let a = try RunSummary.load(try folder.run("with", lines: [#"{"step":1,"train_loss":5,"val_loss":5.5}"#, #"{"step":2,"train_loss":3,"val_loss":3.5}"#]))
        let b = try RunSummary.load(try folder.run("without", lines: [#"{"step":1,"train_loss":5}"#, #"{"step":2,"train_loss":2}"#]))
        let chart = ReportCharts(runs: [a, b], options: ReportOptions()).lossChart(.steps)
        let legend = chart.series.filter(\.inLegend)
        #expect(legend.map(\.name) == ["with", "without"])
        #expect(legend.allSatisfy { $0.points.count == 2 })
        #expect(legend[1].points.map(\.y) == [5, 2])
    }
}

