import FableModel
import FableTensor
import FableTokenizer
import Foundation
@testable import FableServer

/// A server on an ephemeral loopback port with a tiny random-weight model and a tiny BPE
/// tokenizer trained in the test, plus the library reference the answers are checked against.
final class TestServer: Sendable {
    static let modelSeed: UInt64 = 11
    static let corpus = String(repeating: """
        Once upon a time there was a little fox who lived in a green wood. Every morning the fox \
        ran to the river and looked at the fish. "Hello, fish!" said the fox. The fish said nothing. \
        Café, naïve, 日本 and emoji 🦊 keep multi-byte characters in the vocabulary.

        """, count: 4)

    /// The tokenizer, trained once for every test (it is deterministic).
    static let tokenizer: Tokenizer = {
        let trainer = try! BPETrainer(.init(vocabSize: 300, specialTokens: ["<|endoftext|>"]))
        return try! Tokenizer(vocabulary: try! trainer.train(text: corpus).vocabulary)
    }()

    static var config: ModelConfig {
        ModelConfig(vocabSize: tokenizer.vocabularySize, contextLength: 64, dModel: 32, numLayers: 2, numHeads: 4,
                    dFF: 64, ropeTheta: 10_000)
    }

    /// A fresh copy of the served weights (random, from a fixed seed).
    static func network() throws -> TransformerLM { try TransformerLM(config: config, seed: modelSeed) }

    let server: InferenceServer
    let port: Int
    private let runTask: Task<Void, Error>

    /// Starts a server and waits until it listens.
    static func start(
        slots: Int = 8, queueLimit: Int = 16, maxBodyBytes: Int = 8_192, paused: Bool = false,
        shutdownGrace: Duration = .seconds(5), prefillChunk: Int? = 64, runDirectory: URL? = nil
    ) async throws -> TestServer {
        let model = try ServedModel(name: "tiny-test", config: config, tokenizer: tokenizer)
        let server = try InferenceServer(
            network: try network(), model: model,
            configuration: ServerConfiguration(host: "127.0.0.1", port: 0, slots: slots, queueLimit: queueLimit,
                                               maxBodyBytes: maxBodyBytes, shutdownGrace: shutdownGrace,
                                               prefillChunk: prefillChunk, runDirectory: runDirectory))
        if paused { server.scheduler.testingPauseSteps() }
        let (ready, readyContinuation) = AsyncStream<Int>.makeStream()
        let task = Task {
            try await server.run { url in
                readyContinuation.yield(url.port ?? 0)
                readyContinuation.finish()
            }
        }
        var port = 0
        for await value in ready { port = value }
        guard port > 0 else { throw TestServerError.didNotStart }
        return TestServer(server: server, port: port, runTask: task)
    }

    private init(server: InferenceServer, port: Int, runTask: Task<Void, Error>) {
        self.server = server
        self.port = port
        self.runTask = runTask
    }

    /// Shuts down and waits for `run` to return.
    func stop() async throws {
        server.shutdown()
        try await waitUntilStopped()
    }

    /// Waits for `run` to return (after `server.shutdown()`).
    func waitUntilStopped() async throws { try await runTask.value }

    /// Decode steps wait for ``allowSteps(_:)`` or ``resumeSteps()`` (a server started with
    /// `paused: true` starts so): each admitted request emits its first token and then
    /// holds its slot, so a test sees it running however loaded the machine is.
    func pauseSteps() { server.scheduler.testingPauseSteps() }

    /// Lets `count` more decode steps run while paused.
    func allowSteps(_ count: Int) { server.scheduler.testingAllowSteps(count) }

    /// Lets decoding run freely again.
    func resumeSteps() { server.scheduler.testingResumeSteps() }

    enum TestServerError: Error { case didNotStart, timedOut(String) }

    // MARK: - Requests

    func request(_ method: String, _ path: String, json: Any? = nil, rawBody: Data? = nil,
                 headers: [String: String] = [:]) async throws -> HTTPTestConnection.Response {
        let port = self.port
        let body = try json.map { try JSONSerialization.data(withJSONObject: $0) } ?? rawBody
        return try await onThread {
            let connection = try HTTPTestConnection(port: port)
            try connection.send(method, path, rawBody: body, headers: headers)
            return try connection.readResponse()
        }
    }

    /// A streamed request read event by event: every `data:` payload in order, and the
    /// response head.
    func stream(_ path: String, json: [String: Any]) async throws -> (status: Int, headers: [String: String], events: [String]) {
        let port = self.port
        let body = try JSONSerialization.data(withJSONObject: json)
        return try await onThread {
            let connection = try HTTPTestConnection(port: port)
            try connection.send("POST", path, rawBody: body)
            let (status, headers) = try connection.readHead()
            var parser = SSEParser()
            var events: [String] = []
            while let piece = try connection.readBodyPiece() {
                events += parser.feed(String(decoding: piece, as: UTF8.self))
            }
            return (status, headers, events)
        }
    }

    func health() async throws -> [String: Any] { try await request("GET", "/health").json() }

    /// Polls `/health` until `condition` holds, failing after `timeout`.
    func waitForHealth(_ what: String, timeout: Duration = .seconds(10), _ condition: ([String: Any]) -> Bool) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let health = try await health()
            if condition(health) { return health }
            if ContinuousClock.now > deadline { throw TestServerError.timedOut("\(what); last /health: \(health)") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    // MARK: - Reference

    /// What `fable generate` (the library's TextGenerator, with its own copy of the weights)
    /// produces for this prompt, seed and options: the tokens per sample, decoded.
    static func reference(
        promptTokens: [Int], maxTokens: Int, temperature: Float = 1, topP: Float = 1, topK: Int? = nil,
        seed: UInt64, samples: Int = 1
    ) throws -> [(text: String, tokens: Int, endOfText: Bool)] {
        let options = GenerationOptions(
            maxNewTokens: maxTokens, sampling: SamplingOptions(temperature: temperature, topK: topK, topP: topP),
            seed: seed, endOfText: tokenizer.specialTokenID("<|endoftext|>"), overflow: .stop)
        let results = try TextGenerator(model: try network()).generate(prompt: promptTokens, samples: samples, options: options)
        return try results.map { (try tokenizer.decode($0.tokens), $0.tokens.count, $0.finishReason == .endOfText) }
    }

    /// The first seed whose sample for `prompt` runs the full `maxTokens` without an
    /// end-of-text, for tests that need a stream still running when they act on it.
    static func seedWithoutEndOfText(prompt: String, maxTokens: Int) throws -> UInt64 {
        let tokens = tokenizer.encode(prompt)
        for seed: UInt64 in 1...200 {
            let sample = try reference(promptTokens: tokens, maxTokens: maxTokens, seed: seed)[0]
            if !sample.endOfText && sample.tokens == maxTokens { return seed }
        }
        throw TestServerError.timedOut("no seed in 1...200 samples \(maxTokens) tokens without end-of-text")
    }
}
