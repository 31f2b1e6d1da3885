import FableFormats
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

    static func usage(prompt: Int, completion: Int) -> JSONValue {
        .object(["prompt_tokens": .int(prompt), "completion_tokens": .int(completion), "total_tokens": .int(prompt + completion)])
    }

    private var objectName: String { endpoint == .chat ? "chat.completion" : "text_completion" }

    // MARK: - Whole responses

    /// One choice's result.
    struct Choice {
        var text = ""
        var reason: CompletionFinishReason?
        var tokens = 0
    }

    /// The non-streaming response.
    func complete(choices: [Choice], promptTokens: Int) -> JSONValue {
        let objects: [JSONValue] = choices.enumerated().map { index, choice in
            var object: JSONObject = ["index": .int(index)]
            if endpoint == .chat {
                object["message"] = .object(["role": .string("assistant"), "content": .string(choice.text)])
            } else {
                object["text"] = .string(choice.text)
            }
            object["logprobs"] = .null
            object["finish_reason"] = .string((choice.reason ?? .length).rawValue)
            return .object(object)
        }
        return .object([
            "id": .string(id), "object": .string(objectName), "created": .int(created), "model": .string(model),
            "choices": .array(objects),
            "usage": Self.usage(prompt: promptTokens, completion: choices.reduce(0) { $0 + $1.tokens }),
        ])
    }

    // MARK: - Stream chunks

    private func chunk(_ choices: [JSONValue], usage: JSONValue? = nil) -> JSONValue {
        var object: JSONObject = [
            "id": .string(id), "object": .string(endpoint == .chat ? "chat.completion.chunk" : "text_completion"),
            "created": .int(created), "model": .string(model), "choices": .array(choices),
        ]
        if let usage { object["usage"] = usage }
        return .object(object)
    }

    /// One choice's entry in a chunk: chat carries `delta`, completions carry `text`.
    private func choiceEntry(_ choice: Int, delta: JSONObject, text: String, reason: CompletionFinishReason?) -> JSONValue {
        var entry: JSONObject = ["index": .int(choice)]
        if endpoint == .chat { entry["delta"] = .object(delta) } else { entry["text"] = .string(text) }
        entry["logprobs"] = .null
        entry["finish_reason"] = .nullable(reason?.rawValue)
        return .object(entry)
    }

    /// A chat stream's first chunk for a choice: the assistant role, no content yet.
    func roleChunk(choice: Int) -> JSONValue {
        chunk([choiceEntry(choice, delta: ["role": .string("assistant"), "content": .string("")], text: "", reason: nil)])
    }

    /// New text for a choice.
    func textChunk(choice: Int, text: String) -> JSONValue {
        chunk([choiceEntry(choice, delta: ["content": .string(text)], text: text, reason: nil)])
    }

    /// A choice's last chunk, carrying its finish reason.
    func finishChunk(choice: Int, reason: CompletionFinishReason) -> JSONValue {
        chunk([choiceEntry(choice, delta: [:], text: "", reason: reason)])
    }

    /// `stream_options.include_usage`'s last chunk: no choices, the token counts.
    func usageChunk(promptTokens: Int, completionTokens: Int) -> JSONValue {
        chunk([], usage: Self.usage(prompt: promptTokens, completion: completionTokens))
    }

    /// One server-sent event: `data: <json>` and a blank line.
    static func event(_ value: JSONValue) -> String {
        "data: " + JSONBody.text(value) + "\n\n"
    }

    /// The stream's end marker.
    static let done = "data: [DONE]\n\n"
}
