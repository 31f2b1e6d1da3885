import FableFormats

/// The plain-text chat template for base (not instruction-tuned) models: each message is a
/// paragraph headed by its role, and the prompt ends with the assistant's heading for the
/// model to continue.
///
/// ```text
/// System: You are terse.
///
/// User: Tell me a story.
///
/// Assistant:
/// ```
///
/// Roles: `system` (and OpenAI's `developer`), `user`, `assistant`. The reply stops where
/// the model starts another turn (`\nUser:`, `\nAssistant:`, `\nSystem:`), and its leading
/// and trailing whitespace is dropped.
enum ChatTemplate {
    /// Role headings by OpenAI role name.
    static let headings: [String: String] = [
        "system": "System", "developer": "System", "user": "User", "assistant": "Assistant",
    ]

    /// Stop sequences added to every chat request.
    static let turnStops = ["\nUser:", "\nAssistant:", "\nSystem:"]

    /// The prompt text for `messages` (role, content) pairs, already validated.
    static func prompt(_ messages: [(role: String, content: String)]) -> String {
        var text = ""
        for message in messages {
            text += "\(headings[message.role] ?? "User"): \(message.content)\n\n"
        }
        return text + "Assistant:"
    }

    /// Reads `messages`: an array of `{role, content}` objects whose content is a string
    /// or an array of `{type: "text", text}` parts.
    static func messages(_ fields: RequestFields) throws(APIError) -> [(role: String, content: String)] {
        guard let value = fields["messages"] else { throw .missingField("messages") }
        guard case let .array(items) = value else { throw .invalidField("messages", "must be an array, got \(value.kindDescription)") }
        guard !items.isEmpty else { throw .invalidField("messages", "must hold at least one message") }
        var result: [(role: String, content: String)] = []
        for (i, item) in items.enumerated() {
            let name = "messages[\(i)]"
            guard case let .object(object) = item else { throw .invalidField(name, "must be an object, got \(item.kindDescription)") }
            guard case let .string(role)? = object["role"] else { throw .invalidField("\(name).role", "must be a string") }
            guard headings[role] != nil else {
                throw .invalidField("\(name).role", "is '\(role)'; expected system, developer, user or assistant")
            }
            switch object["content"] {
            case let .string(text)?:
                result.append((role, text))
            case let .array(parts)?:
                var text = ""
                for (j, part) in parts.enumerated() {
                    guard case let .object(fields) = part, case .string("text")? = fields["type"],
                          case let .string(piece)? = fields["text"] else {
                        throw .invalidField("\(name).content[\(j)]", "must be {\"type\": \"text\", \"text\": string} (only text is supported)")
                    }
                    text += piece
                }
                result.append((role, text))
            case .null?, nil:
                throw .invalidField("\(name).content", "is required")
            case let other?:
                throw .invalidField("\(name).content", "must be a string or an array of text parts, got \(other.kindDescription)")
            }
        }
        return result
    }
}
