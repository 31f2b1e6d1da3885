import Foundation
import Testing
@testable import FableServer

/// Server-sent-event streaming read chunk by chunk, continuous batching (concurrent
/// streams give the same text as each request alone) and disconnects.
@Suite("Server streaming and batching", .timeLimit(.minutes(3)))
struct StreamingTests {
    static func json(_ event: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(event.utf8)) as? [String: Any])
    }

    /// Parses a completion stream: the text of each choice, the finish reasons, the usage.
    static func collect(_ events: [String], chat: Bool) throws -> (texts: [Int: String], finishes: [Int: String], usage: [String: Any]?) {
        #expect(events.last == "[DONE]")
        #expect(events.filter { $0 == "[DONE]" }.count == 1)
        var texts: [Int: String] = [:], finishes: [Int: String] = [:]
        var usage: [String: Any]?
        var id: String?
        for event in events.dropLast() {
            let chunk = try json(event)
            #expect(chunk["object"] as? String == (chat ? "chat.completion.chunk" : "text_completion"))
            if id == nil { id = chunk["id"] as? String }
            #expect(chunk["id"] as? String == id, "one id for every chunk")
            if let counts = chunk["usage"] as? [String: Any] { usage = counts }
            for choice in chunk["choices"] as? [[String: Any]] ?? [] {
                let index = try #require(choice["index"] as? Int)
                #expect(finishes[index] == nil, "no chunk for choice \(index) after its finish")
                let piece = chat ? (choice["delta"] as? [String: Any])?["content"] as? String : choice["text"] as? String
                texts[index, default: ""] += piece ?? ""
                if let reason = choice["finish_reason"] as? String { finishes[index] = reason }
            }
        }
        return (texts, finishes, usage)
    }

    @Test func completionStream() async throws {
        let server = try await TestServer.start()
        let prompt = "Every morning the fox"
        let (status, headers, events) = try await server.stream("/v1/completions", json: [
            "prompt": prompt, "max_tokens": 25, "seed": 99, "stream": true, "stream_options": ["include_usage": true],
        ])
        #expect(status == 200)
        #expect(headers["content-type"]?.hasPrefix("text/event-stream") == true)
        #expect(events.count > 3, "streamed in pieces")
        let (texts, finishes, usage) = try Self.collect(events, chat: false)
        let promptTokens = TestServer.tokenizer.encode(prompt)
        let expected = try TestServer.reference(promptTokens: promptTokens, maxTokens: 25, seed: 99)[0]
        #expect(texts[0] == expected.text)
        #expect(finishes[0] == (expected.endOfText ? "stop" : "length"))
        #expect(usage?["completion_tokens"] as? Int == expected.tokens)
        #expect(usage?["prompt_tokens"] as? Int == promptTokens.count)
        try await server.stop()
    }

    @Test func chatStream() async throws {
        let server = try await TestServer.start()
        let request: [String: Any] = ["messages": [["role": "user", "content": "Hi"]], "max_tokens": 20, "seed": 3]
        let whole = try await server.request("POST", "/v1/chat/completions", json: request).json()
        var streaming = request
        streaming["stream"] = true
        let (_, _, events) = try await server.stream("/v1/chat/completions", json: streaming)
        let first = try Self.json(events[0])
        let delta = (first["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any]
        #expect(delta?["role"] as? String == "assistant", "the first chunk names the role")
        let (texts, finishes, _) = try Self.collect(events, chat: true)
        let choice = (whole["choices"] as? [[String: Any]])?.first
        #expect(texts[0] ?? "" == (choice?["message"] as? [String: Any])?["content"] as? String)
        #expect(finishes[0] == choice?["finish_reason"] as? String)
        try await server.stop()
    }

    /// Eight streams at once, with different prompts and seeds: each equals the same
    /// request's output alone, and the decode loop really ran them in shared steps.
    @Test func concurrentStreamsMatchSingleRequests() async throws {
        let server = try await TestServer.start()
        let prompts = ["Once", "The little fox ran", "Hello", "In a green wood there was", "Fish", "Café naïve", "🦊", ""]
        func request(_ i: Int) -> [String: Any] {
            ["prompt": prompts[i], "max_tokens": 16 + 3 * i, "seed": 1000 + i, "temperature": 0.8 + 0.05 * Double(i),
             "top_p": 0.9, "stream": true]
        }
        // Alone, one after another.
        var alone: [String] = []
        for i in 0..<8 {
            let (_, _, events) = try await server.stream("/v1/completions", json: request(i))
            alone.append(try Self.collect(events, chat: false).texts[0] ?? "")
        }
        let before = try await server.health()
        // Together: paused until all eight have arrived, so they share decode steps
        // however the requests happen to be scheduled on a loaded machine.
        server.pauseSteps()
        let together = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for i in 0..<8 {
                group.addTask {
                    let (_, _, events) = try await server.stream("/v1/completions", json: request(i))
                    return (i, try Self.collect(events, chat: false).texts[0] ?? "")
                }
            }
            _ = try await server.waitForHealth("all eight requests arrived") {
                ($0["running_requests"] as? Int ?? 0) + ($0["queued_requests"] as? Int ?? 0) == 8
            }
            server.resumeSteps()
            var texts = Array(repeating: "", count: 8)
            for try await (i, text) in group { texts[i] = text }
            return texts
        }
        let after = try await server.health()
        for i in 0..<8 {
            #expect(together[i] == alone[i], "stream \(i) batched differs from alone")
            let reference = try TestServer.reference(promptTokens: TestServer.tokenizer.encode(prompts[i]),
                                                     maxTokens: 16 + 3 * i, temperature: Float(0.8 + 0.05 * Double(i)),
                                                     topP: 0.9, seed: 1000 + UInt64(i))[0]
            #expect(alone[i] == reference.text, "stream \(i) alone differs from the library generator")
        }
        // Batching happened: fewer decode steps than tokens, several slots in one step.
        let steps = (after["decode_steps"] as! Int) - (before["decode_steps"] as! Int)
        let tokens = (after["generated_tokens"] as! Int) - (before["generated_tokens"] as! Int)
        #expect(steps < tokens, "\(steps) steps for \(tokens) tokens")
        #expect((after["peak_busy_slots"] as! Int) >= 4)
        try await server.stop()
    }

    /// A client that hangs up mid-stream frees its slot long before its tokens would run out.
    @Test func disconnectFreesSlot() async throws {
        // Left alone, this request would run all 60 tokens (no end of text); paused, it holds
        // its slot after the first token until the hang-up is noticed.
        let reference = try TestServer.reference(promptTokens: TestServer.tokenizer.encode("Once"), maxTokens: 60, seed: 1)[0]
        try #require(reference.tokens == 60 && !reference.endOfText)
        let server = try await TestServer.start(paused: true)
        // A few tokens' worth of steps, so that some text (a first chunk) is sent: a first
        // token can be a partial UTF-8 character that the decoder holds back.
        server.allowSteps(4)
        let port = server.port
        let body = try JSONSerialization.data(withJSONObject: ["prompt": "Once", "max_tokens": 60, "stream": true, "seed": 1])
        try await onThread {
            let connection = try HTTPTestConnection(port: port)
            try connection.send("POST", "/v1/completions", rawBody: body)
            _ = try connection.readHead()
            _ = try connection.readBodyPiece()   // the first chunk
            connection.hangUp()
        }
        // A stream notices the hang-up when a write fails: let one step (one chunk) through
        // at a time until the slot is free.
        var health = try await server.health()
        for _ in 0..<55 where health["busy_slots"] as? Int != 0 {
            let steps = health["decode_steps"] as? Int ?? 0
            server.allowSteps(1)
            health = try await server.waitForHealth("one more step") {
                ($0["decode_steps"] as? Int ?? 0) > steps || $0["busy_slots"] as? Int == 0
            }
        }
        health = try await server.waitForHealth("slot freed after the disconnect", timeout: .seconds(10)) {
            $0["busy_slots"] as? Int == 0 && $0["running_requests"] as? Int == 0
        }
        // Not run to its end: fewer than its 60 tokens were generated.
        #expect((health["generated_tokens"] as? Int ?? 60) < 60)
        #expect(health["completed_requests"] as? Int == 0)
        // The server still answers.
        server.resumeSteps()
        #expect(try await server.request("POST", "/v1/completions", json: ["prompt": "a", "max_tokens": 2]).status == 200)
        try await server.stop()
    }

    /// The same for a non-streaming request whose client gives up.
    @Test func disconnectWhileWaitingFreesSlot() async throws {
        let server = try await TestServer.start(paused: true)
        let port = server.port
        let body = try JSONSerialization.data(withJSONObject: ["prompt": "Once", "max_tokens": 60, "seed": 1])
        try await onThread {
            let connection = try HTTPTestConnection(port: port)
            try connection.send("POST", "/v1/completions", rawBody: body)
            return connection
        }.hangUpAfterBusy(server)
        _ = try await server.waitForHealth("slot freed after the disconnect", timeout: .seconds(10)) {
            $0["busy_slots"] as? Int == 0 && $0["running_requests"] as? Int == 0
        }
        let health = try await server.health()
        #expect((health["generated_tokens"] as? Int ?? 60) < 60)
        #expect(health["completed_requests"] as? Int == 0)
        try await server.stop()
    }
}

extension HTTPTestConnection {
    /// Waits until the server decodes, then hangs up.
    func hangUpAfterBusy(_ server: TestServer) async throws {
        _ = try await server.waitForHealth("the request started") { $0["busy_slots"] as? Int == 1 }
        hangUp()
    }
}
