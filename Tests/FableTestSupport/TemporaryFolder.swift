import Foundation

/// A fresh folder under the system's temporary directory, removed when the value goes away.
public final class TemporaryFolder {
    public let url: URL

    public init(_ label: String = "fable-tests") {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(label)-\(UUID().uuidString)", isDirectory: true)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// Writes `text` to `name` inside the folder (creating subfolders) and returns its URL.
    @discardableResult
    public func write(_ text: String, to name: String) throws -> URL {
        let file = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: file)
        return file
    }

    /// Makes a run directory `name` with the given metrics lines and optional config.
    @discardableResult
    public func run(_ name: String, lines: [String], config: String? = nil) throws -> URL {
        let dir = url.appendingPathComponent(name, isDirectory: true)
        try write(lines.map { $0 + "\n" }.joined(), to: name + "/metrics.jsonl")
        if let config { try write(config, to: name + "/config.json") }
        return dir
    }
}
