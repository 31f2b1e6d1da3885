import Foundation

/// The JSON objects of OpenAI's completion and chat completion responses, whole and as
/// server-sent-event chunks.
struct CompletionResponse {
    let endpoint: CompletionRequest.Endpoint
    /// `cmpl-…` or `chatcmpl-…`, the same in every chunk of one response.
    let id: String
    let created: Int
    let model: String

    init(endpoint: CompletionRequest.Endpoint, model: String) {
        self.endpoint = endpoint
        let suffix = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(24)
        id = (endpoint == .chat ? "chatcmpl-" : "cmpl-") + suffix
        created = Int(Date().timeIntervalSince1970)
        self.model = model
    }

    static func usage(prompt: Int, completion: Int) -> [String: Any] {
        ["prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion]
    }

    // MARK: - Whole responses

    /// One choice's result.
    struct Choice {
        var text = ""
        var reason: CompletionFinishReason?
        var tokens = 0
    }

    /// The non-streaming response.
    func complete(choices: [Choice], promptTokens: Int) -> [String: Any] {
        let objects: [[String: Any]] = choices.enumerated().map { index, choice in
            var object: [String: Any] = [
                "index": index, "logprobs": NSNull(),
                "finish_reason": choice.reason?.rawValue ?? CompletionFinishReason.length.rawValue,
            ]
            if endpoint == .chat {
                object["message"] = ["role": "assistant", "content": choice.text]
            } else {
                object["text"] = choice.text
            }
            return object
        }
        return [
            "id": id, "object": endpoint == .chat ? "chat.completion" : "text_completion", "created": created,
            "model": model, "choices": objects,
            "usage": Self.usage(prompt: promptTokens, completion: choices.reduce(0) { $0 + $1.tokens }),
        ]
    }

    // MARK: - Stream chunks

    private func chunk(_ choices: [[String: Any]], usage: [String: Any]? = nil) -> [String: Any] {
        var object: [String: Any] = [
            "id": id, "object": endpoint == .chat ? "chat.completion.chunk" : "text_completion",
            "created": created, "model": model, "choices": choices,
        ]
        if let usage { object["usage"] = usage }
        return object
    }

    /// A chat stream's first chunk for a choice: the assistant role, no content yet.
    func roleChunk(choice: Int) -> [String: Any] {
        chunk([["index": choice, "delta": ["role": "assistant", "content": ""], "logprobs": NSNull(), "finish_reason": NSNull()]])
    }

    /// New text for a choice.
    func textChunk(choice: Int, text: String) -> [String: Any] {
        if endpoint == .chat {
            return chunk([["index": choice, "delta": ["content": text], "logprobs": NSNull(), "finish_reason": NSNull()]])
        }
        return chunk([["index": choice, "text": text, "logprobs": NSNull(), "finish_reason": NSNull()]])
    }

    /// A choice's last chunk, carrying its finish reason.
    func finishChunk(choice: Int, reason: CompletionFinishReason) -> [String: Any] {
        if endpoint == .chat {
            return chunk([["index": choice, "delta": [String: Any](), "logprobs": NSNull(), "finish_reason": reason.rawValue]])
        }
        return chunk([["index": choice, "text": "", "logprobs": NSNull(), "finish_reason": reason.rawValue]])
    }

    /// `stream_options.include_usage`'s last chunk: no choices, the token counts.
    func usageChunk(promptTokens: Int, completionTokens: Int) -> [String: Any] {
        chunk([], usage: Self.usage(prompt: promptTokens, completion: completionTokens))
    }

    /// One server-sent event: `data: <json>` and a blank line.
    static func event(_ object: Any) -> String {
        "data: " + String(decoding: JSONBody.data(object), as: UTF8.self) + "\n\n"
    }

    /// The stream's end marker.
    static let done = "data: [DONE]\n\n"
}
