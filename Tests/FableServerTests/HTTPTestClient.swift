import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A minimal HTTP/1.1 client over a blocking loopback socket, independent of the server's
/// stack: it writes requests by hand and reads responses byte by byte (chunked bodies
/// included), so tests see exactly what goes over the wire, can read a stream event by
/// event and can hang up mid-stream. Each connection runs on its own thread, never on the
/// Swift concurrency pool the server needs.
final class HTTPTestConnection: @unchecked Sendable {
    struct Response: Sendable {
        let status: Int
        let headers: [String: String]   // lower-cased names
        let body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
        func json() throws -> [String: Any] {
            guard let object = try JSONSerialization.jsonObject(with: body) as? [String: Any] else {
                throw TestClientError.notJSON(text)
            }
            return object
        }
    }

    enum TestClientError: Error, CustomStringConvertible {
        case connect(Int32), closed, malformed(String), notJSON(String)
        var description: String {
            switch self {
            case let .connect(code): "connect failed: errno \(code)"
            case .closed: "the server closed the connection early"
            case let .malformed(what): "malformed response: \(what)"
            case let .notJSON(text): "not a JSON object: \(text.prefix(200))"
            }
        }
    }

    private let socket: Int32
    private var buffer: [UInt8] = []
    private var bodyRemaining = 0
    private var chunked = false
    private var bodyDone = false

    /// Connects to 127.0.0.1:`port`; reads time out after `timeout` seconds (tests stay bounded).
    init(port: Int, timeout: Int = 20) throws {
        #if canImport(Glibc)
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        socket = Darwin.socket(AF_INET, SOCK_STREAM, 0)
        #endif
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var time = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(socket)
            throw TestClientError.connect(errno)
        }
    }

    deinit { close(socket) }

    /// Hangs up at once (the disconnect tests).
    func hangUp() { shutdown(socket, Int32(SHUT_RDWR)) }

    /// Sends a request; `rawBody` wins over `json`.
    func send(_ method: String, _ path: String, json: Any? = nil, rawBody: Data? = nil, headers: [String: String] = [:]) throws {
        var body = rawBody ?? Data()
        if rawBody == nil, let json { body = try JSONSerialization.data(withJSONObject: json) }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        if method == "POST" || !body.isEmpty {
            head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n"
        }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let bytes = Array((head + "\r\n").utf8) + Array(body)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { write(socket, $0.baseAddress, $0.count) }
            if n <= 0 { throw TestClientError.closed }
            sent += n
        }
    }

    /// Reads the status line and headers.
    func readHead() throws -> (status: Int, headers: [String: String]) {
        let statusLine = try readLine()
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw TestClientError.malformed(statusLine) }
        var headers: [String: String] = [:]
        while true {
            let line = try readLine()
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { throw TestClientError.malformed(line) }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        chunked = headers["transfer-encoding"]?.lowercased() == "chunked"
        bodyRemaining = Int(headers["content-length"] ?? "") ?? (chunked ? 0 : -1)
        bodyDone = !chunked && bodyRemaining == 0
        return (status, headers)
    }

    /// The next piece of the body as it arrives (a chunk, or what the socket gave), nil at its end.
    func readBodyPiece() throws -> Data? {
        if bodyDone { return nil }
        if chunked {
            let sizeLine = try readLine()
            guard let size = Int(sizeLine.split(separator: ";")[0], radix: 16) else { throw TestClientError.malformed("chunk size '\(sizeLine)'") }
            if size == 0 {
                _ = try readLine()
                bodyDone = true
                return nil
            }
            let data = try readExactly(size)
            guard try readLine().isEmpty else { throw TestClientError.malformed("chunk end") }
            return data
        }
        if bodyRemaining >= 0 {
            let data = try readExactly(bodyRemaining)
            bodyDone = true
            return data
        }
        // Until the server closes.
        if try buffer.isEmpty && !fill() { bodyDone = true; return nil }
        defer { buffer.removeAll() }
        return Data(buffer)
    }

    /// Reads the whole response.
    func readResponse() throws -> Response {
        let (status, headers) = try readHead()
        var body = Data()
        while let piece = try readBodyPiece() { body += piece }
        return Response(status: status, headers: headers, body: body)
    }

    // MARK: - Bytes

    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16_384)
        let n = chunk.withUnsafeMutableBytes { read(socket, $0.baseAddress, $0.count) }
        if n < 0 { throw TestClientError.closed }
        if n == 0 { return false }
        buffer += chunk[..<n]
        return true
    }

    private func readLine() throws -> String {
        while true {
            if let index = buffer.firstIndex(of: 0x0A) {
                var line = Array(buffer[..<index])
                buffer.removeSubrange(...index)
                if line.last == 0x0D { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard try fill() else { throw TestClientError.closed }
        }
    }

    private func readExactly(_ count: Int) throws -> Data {
        while buffer.count < count { guard try fill() else { throw TestClientError.closed } }
        defer { buffer.removeSubrange(..<count) }
        return Data(buffer[..<count])
    }
}

/// Runs blocking client work on its own thread and awaits it.
func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            do { continuation.resume(returning: try work()) } catch { continuation.resume(throwing: error) }
        }
        thread.start()
    }
}

/// Server-sent events: splits a stream's text into the `data:` payloads, in order.
struct SSEParser {
    private var pending = ""
    /// Adds received text; returns the complete events' data.
    mutating func feed(_ text: String) -> [String] {
        pending += text
        var events: [String] = []
        while let range = pending.range(of: "\n\n") {
            let event = String(pending[..<range.lowerBound])
            pending.removeSubrange(..<range.upperBound)
            for line in event.split(separator: "\n", omittingEmptySubsequences: true) where line.hasPrefix("data: ") {
                events.append(String(line.dropFirst(6)))
            }
        }
        return events
    }
    var isEmpty: Bool { pending.isEmpty }
}
