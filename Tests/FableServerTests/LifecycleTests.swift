import Foundation
import Testing
@testable import FableServer

/// Graceful shutdown: in-flight streams finish, new requests are refused, `run` returns.
@Suite("Server shutdown", .timeLimit(.minutes(2)))
struct LifecycleTests {
    @Test func shutdownFinishesInFlightStreams() async throws {
        // Paused, the request holds its slot after its first token: it is running when the
        // shutdown begins (a seed whose sample has no end-of-text, so it runs all 50).
        let seed = try TestServer.seedWithoutEndOfText(prompt: "Once", maxTokens: 50)
        let server = try await TestServer.start(paused: true)
        async let streamed = server.stream("/v1/completions", json: ["prompt": "Once", "max_tokens": 50, "seed": seed, "stream": true])
        _ = try await server.waitForHealth("the stream runs") { $0["busy_slots"] as? Int == 1 }
        server.server.shutdown()
        server.resumeSteps()
        try await server.waitUntilStopped()
        let (status, _, events) = try await streamed
        #expect(status == 200)
        let (texts, finishes, _) = try StreamingTests.collect(events, chat: false)
        let expected = try TestServer.reference(promptTokens: TestServer.tokenizer.encode("Once"), maxTokens: 50, seed: seed)[0]
        #expect(texts[0] == expected.text, "the stream ran to its end")
        #expect(finishes[0] != nil)
    }

    /// Past the grace period, a running stream ends with an error event and [DONE].
    @Test func shutdownCancelsAfterGrace() async throws {
        // Paused until the 200 ms grace has surely passed, so the stream cannot end first.
        let seed = try TestServer.seedWithoutEndOfText(prompt: "Once", maxTokens: 60)
        let server = try await TestServer.start(paused: true, shutdownGrace: .milliseconds(200))
        async let streamed = server.stream("/v1/completions", json: ["prompt": "Once", "max_tokens": 60, "seed": seed, "stream": true])
        _ = try await server.waitForHealth("the stream runs") { $0["busy_slots"] as? Int == 1 }
        server.server.shutdown()
        try await Task.sleep(for: .milliseconds(400))
        server.resumeSteps()
        try await server.waitUntilStopped()
        let (_, _, events) = try await streamed
        #expect(events.last == "[DONE]")
        let error = try StreamingTests.json(events[events.count - 2])["error"] as? [String: Any]
        #expect(error?["code"] as? String == "shutting_down")
    }
}
