import Foundation
import Testing
@testable import FableServer

/// Graceful shutdown: in-flight streams finish, new requests are refused, `run` returns.
@Suite("Server shutdown", .timeLimit(.minutes(2)))
struct LifecycleTests {
    @Test func shutdownFinishesInFlightStreams() async throws {
        // 50 steps of at least 40 ms (a seed whose sample has no end-of-text): the stream is
        // still running when /health is polled.
        let seed = try TestServer.seedWithoutEndOfText(prompt: "Once", maxTokens: 50)
        let server = try await TestServer.start(stepDelay: .milliseconds(40))
        async let streamed = server.stream("/v1/completions", json: ["prompt": "Once", "max_tokens": 50, "seed": seed, "stream": true])
        _ = try await server.waitForHealth("the stream runs") { $0["busy_slots"] as? Int == 1 }
        let started = ContinuousClock.now
        try await server.stop()
        // Bounded (a generous limit: CI machines are slow and shared).
        #expect(ContinuousClock.now - started < .seconds(60))
        let (status, _, events) = try await streamed
        #expect(status == 200)
        let (texts, finishes, _) = try StreamingTests.collect(events, chat: false)
        let expected = try TestServer.reference(promptTokens: TestServer.tokenizer.encode("Once"), maxTokens: 50, seed: seed)[0]
        #expect(texts[0] == expected.text, "the stream ran to its end")
        #expect(finishes[0] != nil)
    }

    /// Past the grace period, a running stream ends with an error event and [DONE].
    @Test func shutdownCancelsAfterGrace() async throws {
        // A seed whose 60-token sample has no end-of-text, so the stream cannot end on its own
        // before the grace period runs out (an unseeded one once stopped after 11 tokens).
        let seed = try TestServer.seedWithoutEndOfText(prompt: "Once", maxTokens: 60)
        let server = try await TestServer.start(stepDelay: .milliseconds(50), shutdownGrace: .milliseconds(200))
        async let streamed = server.stream("/v1/completions", json: ["prompt": "Once", "max_tokens": 60, "seed": seed, "stream": true])
        _ = try await server.waitForHealth("the stream runs") { $0["busy_slots"] as? Int == 1 }
        try await server.stop()
        let (_, _, events) = try await streamed
        #expect(events.last == "[DONE]")
        let error = try StreamingTests.json(events[events.count - 2])["error"] as? [String: Any]
        #expect(error?["code"] as? String == "shutting_down")
    }
}
