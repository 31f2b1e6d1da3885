import FableFormats
import Hummingbird

/// An error answered as OpenAI does: an HTTP status and a JSON body
/// `{"error": {"message", "type", "param", "code"}}`, so clients built for the OpenAI API
/// show the message.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let message: String
    /// OpenAI's error classes: `invalid_request_error`, `server_error`, ...
    public let type: String
    /// The request field at fault, when there is one.
    public let param: String?
    public let code: String?

    public init(status: HTTPResponse.Status, message: String, type: String = "invalid_request_error",
                param: String? = nil, code: String? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
    }

    public var description: String { "\(status.code) \(message)" }

    // MARK: - The classes the server answers

    static func invalidJSON(_ reason: String) -> APIError {
        APIError(status: .badRequest, message: "the request body is not valid JSON: \(reason)", code: "invalid_json")
    }

    static func invalidField(_ name: String, _ message: String) -> APIError {
        APIError(status: .badRequest, message: "'\(name)' \(message)", param: name, code: "invalid_value")
    }

    static func missingField(_ name: String) -> APIError {
        APIError(status: .badRequest, message: "'\(name)' is required", param: name, code: "missing_required_parameter")
    }

    static func bodyTooLarge(limit: Int) -> APIError {
        APIError(status: .contentTooLarge, message: "the request body is larger than \(limit) bytes", code: "request_too_large")
    }

    static func promptTooLong(tokens: Int, contextLength: Int, param: String) -> APIError {
        APIError(status: .badRequest,
                 message: "the prompt is \(tokens) tokens but the model's context is \(contextLength); leave room for at least one generated token",
                 param: param, code: "context_length_exceeded")
    }

    static let queueFull = APIError(
        status: .serviceUnavailable, message: "the server is busy: the request queue is full; retry later",
        type: "server_error", code: "queue_full")

    static let shuttingDown = APIError(
        status: .serviceUnavailable, message: "the server is shutting down", type: "server_error", code: "shutting_down")

    static func internalError(_ message: String) -> APIError {
        APIError(status: .internalServerError, message: message, type: "server_error", code: "internal_error")
    }

    // MARK: - Encoding

    /// The `{"error": {...}}` object.
    var jsonObject: JSONValue {
        .object(["error": .object([
            "message": .string(message), "type": .string(type), "param": .nullable(param), "code": .nullable(code),
        ])])
    }

    /// A complete JSON response.
    var response: Response {
        JSONBody.response(jsonObject, status: status)
    }
}
