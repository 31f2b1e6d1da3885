import FableFormats
import Foundation
import Hummingbird

/// JSON response bodies, written with FableFormats' ``JSONWriter`` (compact, keys in the
/// order the response builds them).
enum JSONBody {
    static func data(_ value: JSONValue) -> Data {
        var writer = JSONWriter(style: .compact)
        // Responses hold no NaN or infinity (the only thing the writer refuses).
        do { try writer.value(value) } catch { return Data("{}".utf8) }
        return Data(writer.bytes)
    }

    static func text(_ value: JSONValue) -> String {
        String(decoding: data(value), as: UTF8.self)
    }

    static func response(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data(value))))
    }
}

/// Shorthands for building response objects.
extension JSONValue {
    static func int(_ value: Int) -> JSONValue { .number(.integer(Int64(value))) }
    static func double(_ value: Double) -> JSONValue { .number(.double(value)) }
    /// A string, or null when absent.
    static func nullable(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }
}
