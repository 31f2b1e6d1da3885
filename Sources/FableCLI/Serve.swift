import ArgumentParser
import FableModel
import FableServer
import FableTensor
import FableTraining
import FableWorkbench
import Foundation

/// `fable serve`: an OpenAI-compatible HTTP server with a web playground.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a trained model over an OpenAI-compatible HTTP API, with a web playground at /.",
        discussion: """
            Endpoints: GET / (playground), GET /health, GET /v1/models, POST /v1/completions, \
            POST /v1/chat/completions (a plain-text "User: / Assistant:" template for base \
            models), with streaming as server-sent events. Requests that arrive while others \
            decode join the running batch at the next step (continuous batching over --slots \
            KV-cache rows); up to --queue more wait, beyond that the server answers 503. \
            The same seed gives the same text whether a request runs alone or batched.

            Ctrl-C or SIGTERM stops taking requests, lets running ones finish for up to \
            --shutdown-grace seconds, then exits; a second Ctrl-C exits at once.
            """
    )

    @OptionGroup var source: CheckpointOptions

    @Option(help: ArgumentHelp("The address to listen on (0.0.0.0 for every interface).", valueName: "address"))
    var host: String = "127.0.0.1"

    @Option(help: ArgumentHelp("The port; 0 picks a free one (printed when ready).", valueName: "n"))
    var port: Int = 8080

    @Option(name: .customLong("model-name"), help: ArgumentHelp("The model id clients see (default: the checkpoint's file name).", valueName: "name"))
    var modelName: String?

    @Option(help: ArgumentHelp("Sequences decoded together at most (KV-cache rows); also the largest n.", valueName: "n"))
    var slots: Int = 8

    @Option(help: ArgumentHelp("Requests that may wait for a slot; more get 503.", valueName: "n"))
    var queue: Int = 64

    @Option(name: .customLong("max-body"), help: ArgumentHelp("The largest request body in bytes (larger get 413).", valueName: "bytes"))
    var maxBody: Int = 1 << 20

    @Option(name: .customLong("prefill-chunk"), help: ArgumentHelp(
        "Prompt tokens computed per decode step at most, so a long prompt does not stall the other streams; 0 computes each prompt whole.",
        valueName: "n"))
    var prefillChunk: Int = 64

    @Option(name: .customLong("run"), help: ArgumentHelp(
        "A run folder from `fable train` whose training report (fable report's page) the playground shows, refreshed as the run logs.",
        valueName: "dir"))
    var runFolder: String?

    @Option(name: .customLong("shutdown-grace"), help: ArgumentHelp("Seconds running generations may go on after Ctrl-C/SIGTERM.", valueName: "s"))
    var shutdownGrace: Double = 10

    @OptionGroup var threading: ThreadsOption
    var threads: Int { threading.threads }

    func validate() throws {
        if prefillChunk < 0 { throw ValidationError("--prefill-chunk must be 0 (whole prompts) or more, got \(prefillChunk)") }
        if !(shutdownGrace.isFinite && shutdownGrace >= 0) { throw ValidationError("--shutdown-grace must be 0 or more, got \(shutdownGrace)") }
    }

    func run() throws {
        try threading.apply()
        let loaded = try source.loadModel()
        let tok = try source.loadTokenizer(for: loaded)
        let name = modelName ?? URL(fileURLWithPath: source.checkpoint).deletingPathExtension().lastPathComponent
        let served = try ServedModel(name: name, config: loaded.model.config, tokenizer: tok)
        let configuration = ServerConfiguration(
            host: host, port: port, slots: slots, queueLimit: queue, maxBodyBytes: maxBody,
            shutdownGrace: .milliseconds(Int64(shutdownGrace * 1000)), prefillChunk: prefillChunk == 0 ? nil : prefillChunk,
            runDirectory: runFolder.map { URL(fileURLWithPath: $0) })
        let server = try InferenceServer(network: loaded.model, model: served, configuration: configuration)

        // The project's one signal mechanism: the first Ctrl-C/SIGTERM shuts down gracefully,
        // a second exits at once.
        let interrupt = InterruptSignal(signals: [SIGINT, SIGTERM]) {
            FileHandle.standardError.write(Data("fable serve: shutting down (again to exit at once)…\n".utf8))
            server.shutdown()
        }
        defer { interrupt.cancel() }
        let config = served.config
        let finished = DispatchSemaphore(value: 0)
        let outcome = ResultBox()
        Task {
            do {
                try await server.run { url in
                    let lines = "fable serve: \(name) (\(config.numLayers) layers, d_model \(config.dModel), context \(config.contextLength)), \(configuration.slots) slots\n"
                        + "fable serve: listening on \(url.absoluteString)  (playground: \(url.absoluteString)/)\n"
                    FileHandle.standardOutput.write(Data(lines.utf8))
                }
            } catch {
                outcome.set(error)
            }
            finished.signal()
        }
        finished.wait()
        if let error = outcome.error { throw error }
        FileHandle.standardOutput.write(Data("fable serve: stopped\n".utf8))
    }
}

/// The server task's error, handed to the blocked main thread.
private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?
    func set(_ error: Error) { lock.lock(); stored = error; lock.unlock() }
    var error: Error? { lock.lock(); defer { lock.unlock() }; return stored }
}
