import FableReports
import FableTestSupport
import Foundation
import Testing
@testable import FableServer

/// `fable serve --run DIR`: the training report of a run folder, as `fable report` draws
/// it, served over HTTP and drawn again when the run logs more.
@Suite("Server training report", .timeLimit(.minutes(2)))
struct RunReportTests {
    /// FableReports' page for the folder now, without its footer (which holds the time of drawing).
    static func expectedPage(_ directory: URL) throws -> String {
        let runs = [try RunSummary.load(directory)]
        let options = ReportOptions(title: "Training report: \(directory.lastPathComponent)")
        return withoutFooter(HTMLReport(runs: runs, options: options).html())
    }

    static func withoutFooter(_ html: String) -> String {
        html.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("<footer>") }.joined(separator: "\n")
    }

    @Test func reportFollowsTheRunAsItLogs() async throws {
        let folder = TemporaryFolder("fable-serve-run")
        let run = try folder.run("small", lines: [
            #"{"step":10,"tokens":1000,"wall_seconds":1,"train_loss":5.5}"#,
            #"{"step":20,"tokens":2000,"wall_seconds":2,"train_loss":4.25,"val_loss":4.5}"#,
        ], config: #"{"model": {"d_model": 32}, "optimizer": {"lr": 0.001}}"#)
        let server = try await TestServer.start(runDirectory: run)

        let status = try await server.request("GET", "/run/status")
        #expect(status.status == 200)
        let first = try status.json()
        #expect(first["run"] as? String == "small")
        #expect(first["last_step"] as? Int == 20)
        #expect(first["train_loss"] as? Double == 4.25)
        #expect(first["val_loss"] as? Double == 4.5)
        #expect(first["error"] is NSNull)

        let page = try await server.request("GET", "/run/report")
        #expect(page.status == 200)
        #expect(page.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(Self.withoutFooter(page.text) == (try Self.expectedPage(run)))
        #expect(page.text.contains("<svg"), "the learning curves are drawn")

        // Polling without a change keeps the version.
        #expect(try await server.request("GET", "/run/status").json()["version"] as? String == first["version"] as? String)

        // The run logs another step: a new version, and the page is drawn again.
        let handle = try FileHandle(forWritingTo: run.appendingPathComponent("metrics.jsonl"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"step":30,"tokens":3000,"wall_seconds":3,"train_loss":3.125,"val_loss":3.75}"#.utf8 + [10]))
        try handle.close()
        let second = try await server.request("GET", "/run/status").json()
        #expect(second["version"] as? String != first["version"] as? String)
        #expect(second["last_step"] as? Int == 30)
        #expect(second["val_loss"] as? Double == 3.75)
        let redrawn = try await server.request("GET", "/run/report")
        #expect(Self.withoutFooter(redrawn.text) == (try Self.expectedPage(run)))
        #expect(redrawn.text != page.text)

        // The playground knows the endpoints.
        #expect(try await server.request("GET", "/").text.contains("/run/status"))
        try await server.stop()
    }

    /// A run that has not logged yet gets the report's own "no metrics yet" page; a broken
    /// log gets a page and a status naming the file and line.
    @Test func emptyAndBrokenRuns() async throws {
        let folder = TemporaryFolder("fable-serve-run")
        let run = folder.url.appendingPathComponent("starting")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        let server = try await TestServer.start(runDirectory: run)

        let empty = try await server.request("GET", "/run/status").json()
        #expect(empty["last_step"] is NSNull)
        #expect(empty["error"] is NSNull)
        #expect(try await server.request("GET", "/run/report").text.contains("None of these runs has logged any metrics yet"))

        try folder.write("{\"step\":1,\"train_loss\":5}\nnot json\n", to: "starting/metrics.jsonl")
        let broken = try await server.request("GET", "/run/status").json()
        let message = try #require(broken["error"] as? String)
        #expect(message.contains("metrics.jsonl:2"), "\(message)")
        let page = try await server.request("GET", "/run/report")
        #expect(page.status == 200)
        #expect(page.text.contains("metrics.jsonl:2"))
        try await server.stop()
    }

    @Test func withoutRunTheEndpointsAnswer404() async throws {
        let server = try await TestServer.start()
        for path in ["/run/status", "/run/report"] {
            let response = try await server.request("GET", path)
            #expect(response.status == 404)
            #expect((try response.json()["error"] as? [String: Any])?["code"] as? String == "no_run")
        }
        try await server.stop()
    }

    @Test func missingRunFolderIsASetupError() throws {
        let model = try ServedModel(name: "tiny-test", config: TestServer.config, tokenizer: TestServer.tokenizer)
        let missing = URL(fileURLWithPath: "/nonexistent/fable-run")
        #expect(throws: ServerSetupError.invalidOption(name: "run", value: missing.path,
                                                       expected: "an existing run folder (written by fable train)")) {
            _ = try InferenceServer(network: try TestServer.network(), model: model,
                                    configuration: ServerConfiguration(port: 0, runDirectory: missing))
        }
    }
}
