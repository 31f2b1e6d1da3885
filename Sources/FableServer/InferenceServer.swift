import FableModel
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// How `fable serve` listens and batches.
public struct ServerConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port (reported through `run`'s `onReady`).
    public var port: Int
    /// Sequences decoded together at most (KV-cache rows); also the largest `n`.
    public var slots: Int
    /// Requests that may wait for a slot; more get 503.
    public var queueLimit: Int
    /// Request bodies larger than this get 413.
    public var maxBodyBytes: Int
    /// On shutdown, how long running generations may go on before they are cancelled.
    public var shutdownGrace: Duration
    /// Prompt tokens computed per decode step at most, so a long prompt joining the batch
    /// holds up the other streams by one chunk per step; nil computes each prompt whole.
    public var prefillChunk: Int?
    /// A run folder whose training report the playground shows (`--run`).
    public var runDirectory: URL?

    public init(host: String = "127.0.0.1", port: Int = 8080, slots: Int = 8, queueLimit: Int = 64,
                maxBodyBytes: Int = 1 << 20, shutdownGrace: Duration = .seconds(10), prefillChunk: Int? = 64,
                runDirectory: URL? = nil) {
        self.host = host
        self.port = port
        self.slots = slots
        self.queueLimit = queueLimit
        self.maxBodyBytes = maxBodyBytes
        self.shutdownGrace = shutdownGrace
        self.prefillChunk = prefillChunk
        self.runDirectory = runDirectory
    }

    /// Checks every field; the error names the command-line option.
    public func validate() throws(ServerSetupError) {
        if !(0...65_535).contains(port) { throw .invalidOption(name: "port", value: "\(port)", expected: "0...65535 (0 picks a free port)") }
        if slots < 1 { throw .invalidOption(name: "slots", value: "\(slots)", expected: "at least 1") }
        if queueLimit < 1 { throw .invalidOption(name: "queue", value: "\(queueLimit)", expected: "at least 1") }
        if maxBodyBytes < 1_024 { throw .invalidOption(name: "max-body", value: "\(maxBodyBytes)", expected: "at least 1024 bytes") }
        if let prefillChunk, prefillChunk < 1 {
            throw .invalidOption(name: "prefill-chunk", value: "\(prefillChunk)", expected: "at least 1 (0 on the command line: whole prompts)")
        }
        if let runDirectory {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: runDirectory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw .invalidOption(name: "run", value: runDirectory.path, expected: "an existing run folder (written by fable train)")
            }
        }
        if shutdownGrace < .zero { throw .invalidOption(name: "shutdown-grace", value: "\(shutdownGrace)", expected: "0 or more seconds") }
    }
}

/// An OpenAI-compatible HTTP server for one model, with a web playground at `/`.
///
/// ```swift
/// let server = try InferenceServer(network: lm, model: served, configuration: .init(port: 0))
/// try await server.run { url in print("listening on \(url)") }   // until shutdown()
/// ```
public final class InferenceServer: Sendable {
    public let model: ServedModel
    public let configuration: ServerConfiguration
    let scheduler: BatchScheduler
    /// The training report the playground shows (`--run`).
    let runReport: RunReportPage?
    private let group = Mutex<GroupState>(GroupState())

    private struct GroupState {
        var serviceGroup: ServiceGroup?
        var shutdownRequested = false
    }

    /// - Parameter network: the model's weights; from now on only the server's decode loop uses them.
    public init(network: TransformerLM, model: ServedModel, configuration: ServerConfiguration) throws(ServerSetupError) {
        try configuration.validate()
        self.model = model
        self.configuration = configuration
        scheduler = BatchScheduler(network: network, model: model, slots: configuration.slots,
                                   queueLimit: configuration.queueLimit, prefillChunk: configuration.prefillChunk)
        runReport = configuration.runDirectory.map { RunReportPage(directory: $0) }
    }

    /// Serves until ``shutdown()``; calls `onReady` with the base URL (the real port when
    /// the configuration asked for 0) once it accepts connections.
    public func run(onReady: @escaping @Sendable (URL) -> Void = { _ in }) async throws {
        scheduler.start()
        var logger = Logger(label: "fable.serve")
        logger.logLevel = .warning
        let host = configuration.host
        let router = Routes(server: self).router()
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: configuration.port), serverName: "fable"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                let shownHost = host.contains(":") ? "[\(host)]" : host
                onReady(URL(string: "http://\(shownHost):\(port)")!)
            },
            logger: logger)
        let serviceGroup = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        let stopAtOnce = group.withLock { state in
            state.serviceGroup = serviceGroup
            return state.shutdownRequested
        }
        if stopAtOnce { await serviceGroup.triggerGracefulShutdown() }
        do {
            try await serviceGroup.run()
        } catch {
            scheduler.beginShutdown(grace: .zero)
            await scheduler.waitUntilStopped()
            throw error
        }
        scheduler.beginShutdown(grace: .zero)
        await scheduler.waitUntilStopped()
    }

    /// Stops gracefully: no new connections or requests (503), queued requests fail, running
    /// generations finish within ``ServerConfiguration/shutdownGrace`` (then are cancelled),
    /// and ``run(onReady:)`` returns once every response is complete. Safe from any thread,
    /// any number of times.
    public func shutdown() {
        scheduler.beginShutdown(grace: configuration.shutdownGrace)
        let serviceGroup = group.withLock { state in
            state.shutdownRequested = true
            return state.serviceGroup
        }
        if let serviceGroup {
            Task { await serviceGroup.triggerGracefulShutdown() }
        }
    }
}
