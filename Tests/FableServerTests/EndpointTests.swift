import Foundation
import Testing
@testable import FableServer

/// Each endpoint over real loopback HTTP, checked against the library's own generator
/// (TextGenerator with a separate copy of the weights) and OpenAI's documented shapes.
@Suite("Server endpoints", .timeLimit(.minutes(2)))
struct EndpointTests {
    @Test func healthModelsAndPlayground() async throws {
        let server = try await TestServer.start()
        let health = try await server.request("GET", "/health")
        #expect(health.status == 200)
        let status = try health.json()
        #expect(status["status"] as? String == "ok")
        #expect(status["slots"] as? Int == 8)

        let models = try await server.request("GET", "/v1/models").json()
        #expect(models["object"] as? String == "list")
        let entry = try #require((models["data"] as? [[String: Any]])?.first)
        #expect(entry["id"] as? String == "tiny-test")
        #expect(entry["object"] as? String == "model")
        #expect(entry["context_length"] as? Int == 64)
        #expect((entry["config"] as? [String: Any])?["d_model"] as? Int == 32)
        #expect(try await server.request("GET", "/v1/models/tiny-test").status == 200)
        #expect(try await server.request("GET", "/v1/models/other").status == 404)

        let page = try await server.request("GET", "/")
        #expect(page.status == 200)
        #expect(page.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(page.text.contains("Fable playground"))
        #expect(page.text.contains("/v1/completions"))
        // Self-contained: nothing loaded from another origin.
        #expect(!page.text.contains("src=\"http"))
        #expect(!page.text.contains("href=\"http"))
        try await server.stop()
    }

    @Test func completionMatchesLibraryGenerator() async throws {
        let server = try await TestServer.start()
        let prompt = "Once upon a time"
        let response = try await server.request("POST", "/v1/completions", json: [
            "model": "tiny-test", "prompt": prompt, "max_tokens": 20, "temperature": 0.9, "top_p": 0.95, "seed": 1234,
        ])
        #expect(response.status == 200)
        let body = try response.json()
        #expect(body["object"] as? String == "text_completion")
        #expect((body["id"] as? String)?.hasPrefix("cmpl-") == true)
        #expect(body["model"] as? String == "tiny-test")
        let choice = try #require((body["choices"] as? [[String: Any]])?.first)
        let promptTokens = TestServer.tokenizer.encode(prompt)
        let expected = try TestServer.reference(promptTokens: promptTokens, maxTokens: 20, temperature: 0.9, topP: 0.95, seed: 1234)[0]
        #expect(choice["text"] as? String == expected.text)
        #expect(choice["finish_reason"] as? String == (expected.endOfText ? "stop" : "length"))
        let usage = try #require(body["usage"] as? [String: Any])
        #expect(usage["prompt_tokens"] as? Int == promptTokens.count)
        #expect(usage["completion_tokens"] as? Int == expected.tokens)
        #expect(usage["total_tokens"] as? Int == promptTokens.count + expected.tokens)
        try await server.stop()
    }

    /// n choices: choice i is the library's sample i (seed + i), the prompt computed once.
    @Test func severalChoices() async throws {
        let server = try await TestServer.start()
        let body = try await server.request("POST", "/v1/completions", json: [
            "prompt": "The fox", "max_tokens": 12, "seed": 77, "n": 3, "top_k": 40,
        ]).json()
        let choices = try #require(body["choices"] as? [[String: Any]])
        let expected = try TestServer.reference(promptTokens: TestServer.tokenizer.encode("The fox"), maxTokens: 12,
                                                topK: 40, seed: 77, samples: 3)
        #expect(choices.count == 3)
        for (i, choice) in choices.enumerated() {
            #expect(choice["index"] as? Int == i)
            #expect(choice["text"] as? String == expected[i].text, "choice \(i)")
        }
        let usage = try #require(body["usage"] as? [String: Any])
        #expect(usage["completion_tokens"] as? Int == expected.reduce(0) { $0 + $1.tokens })
        try await server.stop()
    }

    /// Greedy decoding with token-id prompts; a stop sequence cut from the reference text
    /// ends the choice before it, with finish_reason "stop".
    @Test func tokenPromptAndStopSequence() async throws {
        let server = try await TestServer.start()
        let prompt = TestServer.tokenizer.encode("Hello, fish")
        let full = try TestServer.reference(promptTokens: prompt, maxTokens: 30, temperature: 0, seed: 0)[0]
        let body = try await server.request("POST", "/v1/completions", json: [
            "prompt": prompt, "max_tokens": 30, "temperature": 0,
        ]).json()
        let text = try #require((body["choices"] as? [[String: Any]])?.first?["text"] as? String)
        #expect(text == full.text)
        // A stop sequence taken from the middle of the text.
        let characters = Array(full.text)
        try #require(characters.count >= 8)
        let stop = String(characters[4..<7])
        let cut = full.text.range(of: stop)!.lowerBound
        let stopped = try await server.request("POST", "/v1/completions", json: [
            "prompt": prompt, "max_tokens": 30, "temperature": 0, "stop": [stop, "never-appears"],
        ]).json()
        let choice = try #require((stopped["choices"] as? [[String: Any]])?.first)
        #expect(choice["text"] as? String == String(full.text[..<cut]))
        #expect(choice["finish_reason"] as? String == "stop")
        try await server.stop()
    }

    /// Chat: the documented plain-text template, the reply cut at the next turn and trimmed.
    @Test func chatCompletion() async throws {
        let server = try await TestServer.start()
        let body = try await server.request("POST", "/v1/chat/completions", json: [
            "messages": [["role": "system", "content": "Be brief."], ["role": "user", "content": "Tell me about the fox."]],
            "max_tokens": 24, "seed": 5,
        ]).json()
        #expect(body["object"] as? String == "chat.completion")
        #expect((body["id"] as? String)?.hasPrefix("chatcmpl-") == true)
        let choice = try #require((body["choices"] as? [[String: Any]])?.first)
        let message = try #require(choice["message"] as? [String: Any])
        #expect(message["role"] as? String == "assistant")
        // The template, written out independently of ChatTemplate.
        let prompt = "System: Be brief.\n\nUser: Tell me about the fox.\n\nAssistant:"
        let promptTokens = TestServer.tokenizer.encode(prompt)
        let raw = try TestServer.reference(promptTokens: promptTokens, maxTokens: 24, seed: 5)[0].text
        var reply = raw
        for turn in ["\nUser:", "\nAssistant:", "\nSystem:"] {
            if let range = reply.range(of: turn) { reply = String(reply[..<range.lowerBound]) }
        }
        reply = reply.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(message["content"] as? String == reply)
        #expect((body["usage"] as? [String: Any])?["prompt_tokens"] as? Int == promptTokens.count)
        try await server.stop()
    }

    @Test func cors() async throws {
        let server = try await TestServer.start()
        let preflight = try await server.request("OPTIONS", "/v1/completions", headers: [
            "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        ])
        #expect((200..<300).contains(preflight.status))
        #expect(preflight.headers["access-control-allow-origin"] == "*")
        #expect(preflight.headers["access-control-allow-methods"]?.contains("POST") == true)
        let post = try await server.request("POST", "/v1/completions", json: ["prompt": "a", "max_tokens": 2],
                                            headers: ["Origin": "http://localhost:3000"])
        #expect(post.status == 200)
        #expect(post.headers["access-control-allow-origin"] == "*")
        try await server.stop()
    }
}
