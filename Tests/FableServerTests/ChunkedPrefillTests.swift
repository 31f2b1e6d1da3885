import FableModel
import Foundation
import Testing
@testable import FableServer

/// Chunked prefill: a long prompt joining a running batch is computed a chunk per step,
/// interleaved with the other streams' decode steps, and every text stays what the
/// request gives alone and what the library generator gives.
@Suite("Server chunked prefill", .timeLimit(.minutes(3)))
struct ChunkedPrefillTests {
    /// 40 tokens of the test corpus: five chunks of 8.
    static let longPrompt = Array(TestServer.tokenizer.encode(TestServer.corpus).prefix(40))

    /// The identity chunking rests on: a prompt computed in pieces, each after the
    /// positions already cached, gives the logits of the whole prompt at once (up to the
    /// rounding of sums taken in another order by kernels chosen by row count).
    @Test func chunkedLogitsEqualWholePromptLogits() throws {
        let network = try TestServer.network()
        let whole = KVCache(config: network.config, batch: 2)
        let expected = try network.forward(prefill: Self.longPrompt, slot: 1, cache: whole)
        for chunk in [1, 3, 8, 16, 39] {
            let cache = KVCache(config: network.config, batch: 2)
            var logits: [Float] = []
            var done = 0
            while done < Self.longPrompt.count {
                let end = min(done + chunk, Self.longPrompt.count)
                logits = try network.forward(prefill: Array(Self.longPrompt[done..<end]), slot: 1, cache: cache)
                done = end
            }
            #expect(cache.slotLength(1) == Self.longPrompt.count)
            let difference = zip(logits, expected).map { abs($0 - $1) }.max() ?? .infinity
            #expect(difference < 1e-4, "chunks of \(chunk): logits differ by \(difference)")
        }
    }

    /// Three streams decode while a 40-token prompt joins in chunks of 8: every text equals
    /// the same request alone and the library generator's, and no step computed more than
    /// one chunk of prompt (so the running streams waited for at most one chunk per token).
    @Test func longPromptJoinsRunningStreamsInChunks() async throws {
        let server = try await TestServer.start(slots: 4, prefillChunk: 8)
        let shortPrompts = ["Once", "The fish", "Every morning"]
        let seeds = try shortPrompts.map { try TestServer.seedWithoutEndOfText(prompt: $0, maxTokens: 40) }
        func shortRequest(_ i: Int) -> [String: Any] {
            ["prompt": shortPrompts[i], "max_tokens": 40, "seed": seeds[i], "stream": true]
        }
        func longRequest() -> [String: Any] { ["prompt": Self.longPrompt, "max_tokens": 20, "seed": 7, "stream": true] }

        let alone = try StreamingTests.collect(try await server.stream("/v1/completions", json: longRequest()).events, chat: false)
        // From here decode steps wait for the test, so the interleaving does not depend on timing.
        server.pauseSteps()
        let together = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for i in shortPrompts.indices {
                group.addTask {
                    let (_, _, events) = try await server.stream("/v1/completions", json: shortRequest(i))
                    return (i, try StreamingTests.collect(events, chat: false).texts[0] ?? "")
                }
            }
            // One step at a time (the next only once the last has run) until the three short
            // streams all decode...
            var lastSteps = -1
            _ = try await server.waitForHealth("the short streams run") { health in
                if health["busy_slots"] as? Int == 3 { return true }
                let steps = health["decode_steps"] as? Int ?? 0
                if (health["busy_slots"] as? Int ?? 0) > 0 && steps != lastSteps {
                    lastSteps = steps
                    server.allowSteps(1)
                }
                return false
            }
            // ...then the long prompt queues behind the held step, and everything runs: each
            // loop turn computes one 8-token chunk and then one decode step of the others.
            group.addTask {
                let (_, _, events) = try await server.stream("/v1/completions", json: longRequest())
                return (3, try StreamingTests.collect(events, chat: false).texts[0] ?? "")
            }
            _ = try await server.waitForHealth("the long prompt is queued") {
                $0["queued_requests"] as? Int == 1 || $0["prefilling_requests"] as? Int == 1
            }
            server.resumeSteps()
            var texts = Array(repeating: "", count: 4)
            for try await (i, text) in group { texts[i] = text }
            return texts
        }
        for i in shortPrompts.indices {
            let reference = try TestServer.reference(promptTokens: TestServer.tokenizer.encode(shortPrompts[i]),
                                                     maxTokens: 40, seed: seeds[i])[0]
            #expect(together[i] == reference.text, "short stream \(i) differs from the library generator")
        }
        #expect(together[3] == alone.texts[0], "the long prompt's text depends on what shared its steps")
        let reference = try TestServer.reference(promptTokens: Self.longPrompt, maxTokens: 20, seed: 7)[0]
        #expect(alone.texts[0] == reference.text, "the chunked prompt's text differs from the library generator")

        let health = try await server.health()
        #expect(health["peak_prefill_tokens"] as? Int == 8, "a step computed more than one chunk of prompt")
        #expect(health["prefilling_requests"] as? Int == 0)
        try await server.stop()
    }

    /// Without chunking the whole prompt is computed in one step (the control for the test
    /// above, and `--prefill-chunk 0`).
    @Test func unchunkedPrefillComputesTheWholePrompt() async throws {
        let server = try await TestServer.start(prefillChunk: nil)
        let response = try await server.request("POST", "/v1/completions", json: ["prompt": Self.longPrompt, "max_tokens": 5, "seed": 7])
        let body = try response.json()
        let reference = try TestServer.reference(promptTokens: Self.longPrompt, maxTokens: 5, seed: 7)[0]
        #expect((body["choices"] as? [[String: Any]])?.first?["text"] as? String == reference.text)
        #expect(try await server.health()["peak_prefill_tokens"] as? Int == Self.longPrompt.count)
        try await server.stop()
    }

    @Test func invalidChunkIsRejected() throws {
        let model = try ServedModel(name: "tiny-test", config: TestServer.config, tokenizer: TestServer.tokenizer)
        #expect(throws: ServerSetupError.self) {
            _ = try InferenceServer(network: try TestServer.network(), model: model,
                                    configuration: ServerConfiguration(port: 0, prefillChunk: 0))
        }
    }
}
