import FableFormats
import FableReports
import FableTraining
import Foundation
import Hummingbird
import Synchronization

/// The training report of one run folder (`fable serve --run DIR`), as FableReports draws
/// it for `fable report`: one HTML page with inline SVG learning curves.
///
/// The page is drawn again only when the folder's `metrics.jsonl` or `config.json` has
/// changed (size or modification time), so a run that is still training can be watched:
/// the playground polls `/run/status` and reloads `/run/report` when the version moves.
final class RunReportPage: Sendable {
    let directory: URL

    /// The last drawing and the file versions it was drawn from.
    private struct Drawing: Sendable {
        var version: String
        var html: String
        var summary: RunSummary?
        /// Why the folder could not be read, when it could not.
        var problem: String?
    }

    private let cache = Mutex<Drawing?>(nil)

    init(directory: URL) {
        self.directory = directory.standardizedFileURL
    }

    /// The files the report reads, by size and modification time ("-" for a missing file).
    func version() -> String {
        ["metrics.jsonl", "config.json"].map { name in
            let path = directory.appendingPathComponent(name).path
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return "-" }
            let size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
            let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            return "\(size)@\(modified)"
        }.joined(separator: ",")
    }

    /// The drawing for the files as they are now, drawn again if they changed.
    private func current() -> Drawing {
        let version = version()
        if let drawing = cache.withLock({ $0 }), drawing.version == version { return drawing }
        // Drawn outside the lock: two polls at once may both draw; either result is current.
        let drawing = draw(version: version)
        cache.withLock { $0 = drawing }
        return drawing
    }

    private func draw(version: String) -> Drawing {
        let name = directory.lastPathComponent
        let options = ReportOptions(title: "Training report: \(name)")
        let summary: RunSummary
        do {
            summary = try RunSummary.load(directory)
        } catch RunReportError.metrics(.missingFile) {
            // A run that has not logged yet: the report's own "no metrics yet" page.
            let empty = MetricsLog(url: directory.appendingPathComponent("metrics.jsonl"), entries: [])
            summary = RunSummary(name: name, directory: directory, config: [:], log: empty)
        } catch {
            let message = "\(error)"
            let html = """
                <!DOCTYPE html>
                <html lang="en"><head><meta charset="utf-8"><title>\(Markup.escape(options.title))</title></head>
                <body><h1>\(Markup.escape(options.title))</h1>
                <p>The run folder cannot be read: \(Markup.escape(message))</p>
                <p>This page is drawn again when the files change.</p></body></html>

                """
            return Drawing(version: version, html: html, summary: nil, problem: message)
        }
        return Drawing(version: version, html: HTMLReport(runs: [summary], options: options).html(), summary: summary)
    }

    // MARK: - Responses

    /// `GET /run/report`: the page.
    var reportResponse: Response {
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-cache"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: current().html)))
    }

    /// `GET /run/status`: the version and the latest figures, for polling.
    var statusResponse: Response {
        let drawing = current()
        func number(_ value: Double?) -> JSONValue {
            guard let value, value.isFinite else { return .null }
            return .double(value)
        }
        let summary = drawing.summary
        let object: JSONObject = [
            "run": .string(directory.lastPathComponent), "directory": .string(directory.path),
            "version": .string(drawing.version),
            "last_step": summary?.lastStep.map { .int($0) } ?? .null,
            "tokens": summary?.tokens.map { .int($0) } ?? .null,
            "train_loss": number(summary?.finalTrainLoss), "val_loss": number(summary?.finalValLoss),
            "diverged": .bool(summary?.diverged ?? false), "error": .nullable(drawing.problem),
        ]
        return JSONBody.response(.object(object))
    }

    /// The answer to both endpoints when the server was started without `--run`.
    static let notConfigured = APIError(
        status: .notFound, message: "this server was started without --run, so it has no training report to show",
        code: "no_run")
}
