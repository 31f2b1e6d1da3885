import Foundation
import Testing
@testable import FableServer

/// Opt-in (FABLE_BROWSER_TESTS=1, needs Debian's `chromium`): headless Chromium loads the
/// playground with a prompt in its URL, the page generates, and the text streamed into the
/// page is the API's answer for the same request.
@Suite("Playground in Chromium", .enabled(if: ProcessInfo.processInfo.environment["FABLE_BROWSER_TESTS"] == "1"),
       .timeLimit(.minutes(3)))
struct PlaygroundBrowserTests {
    static var chromium: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The text content of the element with `id` in a dumped DOM, entities decoded.
    static func elementText(_ html: String, id: String) -> String? {
        guard let open = html.range(of: "id=\"\(id)\""), let start = html[open.upperBound...].range(of: ">") else { return nil }
        var depth = 1, index = start.upperBound, text = ""
        while index < html.endIndex, depth > 0 {
            if html[index] == "<" {
                let close = html[index...].firstIndex(of: ">") ?? html.endIndex
                let tag = html[index..<close]
                if tag.hasPrefix("</") { depth -= 1 } else if !tag.hasSuffix("/") { depth += 1 }
                index = close < html.endIndex ? html.index(after: close) : close
            } else {
                text.append(html[index])
                index = html.index(after: index)
            }
        }
        for (entity, character) in [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'"), ("&nbsp;", "\u{00A0}"), ("&amp;", "&")] {
            text = text.replacingOccurrences(of: entity, with: character)
        }
        return text
    }

    @Test func pageStreamsACompletion() async throws {
        let browser = try #require(Self.chromium, "install Debian's chromium")
        let server = try await TestServer.start()
        let prompt = "Once upon a time"
        let expected = try await server.request("POST", "/v1/completions", json: [
            "prompt": prompt, "max_tokens": 24, "temperature": 0.8, "top_p": 0.95, "seed": 21,
        ]).json()
        let text = try #require((expected["choices"] as? [[String: Any]])?.first?["text"] as? String)

        var query = URLComponents()
        query.queryItems = [.init(name: "prompt", value: prompt), .init(name: "max_tokens", value: "24"),
                            .init(name: "temperature", value: "0.8"), .init(name: "top_p", value: "0.95"),
                            .init(name: "seed", value: "21"), .init(name: "autorun", value: "1")]
        let url = "http://127.0.0.1:\(server.port)/\(query.string.map { "?" + $0 } ?? "")"
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("fable-chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        let html: String = try await onThread {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: browser)
            process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(profile.path)",
                                 "--virtual-time-budget=20000", "--dump-dom", url]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }
        // Chromium dumps the page when its virtual-time budget runs out, which may be while
        // the body still streams: the text shown must be a non-empty prefix of the answer,
        // and all of it once the page says it is done.
        let shown = try #require(Self.elementText(html, id: "output"))
        #expect(shown.hasPrefix(prompt) && shown.count > prompt.count, "streamed text appeared: \(shown)")
        #expect((prompt + text).hasPrefix(shown), "the page shows the start of the API's completion")
        if html.contains("data-state=\"done\"") {
            #expect(shown == prompt + text, "the page shows the prompt and the whole completion")
        }
        try await server.stop()
    }
}
