import FableFormats
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The C library's `close`, which the writer's own `close()` method hides inside the class.
private let systemClose: @Sendable (Int32) -> Int32 = { close($0) }

/// Appends lines to a metrics.jsonl file, one `write` per line, so the file on disk is
/// always whole lines plus at most one cut-short final line if the process dies mid-write
/// (which ``MetricsLog/read(_:)`` tolerates, and which the next writer repairs).
///
/// ```swift
/// let log = try MetricsLogWriter(url: runDir.appendingPathComponent("metrics.jsonl"))
/// try log.append(MetricsRecord(step: 100, tokens: 204_800, wallSeconds: 61.2, lr: 3e-4,
///                              trainLoss: 4.1, gradNorm: 0.8, tokensPerSecond: 3346))
/// try log.append(MetricsEvent(MetricsEvent.diverged, step: 1350,
///                             fields: ["message": .string("train loss is NaN")]))
/// ```
///
/// Each line reaches the operating system before `append` returns, so Ctrl-C or a crash
/// loses nothing already appended; ``synchronize()`` also forces it to the disk. The writer
/// is safe to use from several threads.
public final class MetricsLogWriter: @unchecked Sendable {
    /// The file being appended to.
    public let url: URL
    private var descriptor: Int32
    private let lock = NSLock()

    /// Opens `url` for appending, creating it (and its folder) when missing. When an
    /// earlier process left a cut-short final line, it is removed first so the next line
    /// starts cleanly; a final line that is complete but lacks its newline gets one.
    /// - Throws: ``MetricsLogError/writeFailed(path:reason:)``.
    public init(url: URL) throws {
        self.url = url
        let path = url.path
        do {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw MetricsLogError.writeFailed(path: path, reason: error.localizedDescription)
        }
        try MetricsLogWriter.repairTail(of: url)
        descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        if descriptor < 0 {
            throw MetricsLogError.writeFailed(path: path, reason: String(cString: strerror(errno)))
        }
    }

    deinit { close() }

    // MARK: - Appending

    /// Appends one metrics record as a line.
    public func append(_ record: MetricsRecord) throws { try append(.record(record)) }

    /// Appends one event as a line.
    public func append(_ event: MetricsEvent) throws { try append(.event(event)) }

    /// Appends one entry as a line.
    public func append(_ entry: MetricsEntry) throws {
        try writeLine(entry.jsonLine)
    }

    /// Forces the lines written so far onto the disk (fsync). Appending alone already
    /// survives a crash of the process; this also survives a crash of the machine.
    public func synchronize() throws {
        lock.lock(); defer { lock.unlock() }
        guard descriptor >= 0 else { return }
        if fsync(descriptor) != 0 {
            throw MetricsLogError.writeFailed(path: url.path, reason: String(cString: strerror(errno)))
        }
    }

    /// Closes the file; later appends fail. Called automatically when the writer goes away.
    public func close() {
        lock.lock(); defer { lock.unlock() }
        if descriptor >= 0 {
            _ = fsync(descriptor)
            _ = systemClose(descriptor)
            descriptor = -1
        }
    }

    private func writeLine(_ line: String) throws {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        lock.lock(); defer { lock.unlock() }
        guard descriptor >= 0 else {
            throw MetricsLogError.writeFailed(path: url.path, reason: "the writer was closed")
        }
        try bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw MetricsLogError.writeFailed(path: url.path, reason: String(cString: strerror(errno)))
                }
                offset += n
            }
        }
    }

    // MARK: - Repair and rewind

    /// Makes the file end with a newline: an unterminated final line is completed when it
    /// parses and cut off when it does not.
    static func repairTail(of url: URL) throws {
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else { return }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw MetricsLogError.unreadable(path: path, reason: error.localizedDescription)
        }
        guard let last = data.last, last != UInt8(ascii: "\n") else { return }
        let tailStart = (data.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 }) ?? data.startIndex
        let tail = String(decoding: data[tailStart...], as: UTF8.self)
        let tailParses = (try? MetricsLog.entry(fromLine: tail, path: path, line: 0)) != nil
        let repaired = tailParses ? data + [UInt8(ascii: "\n")] : data[..<tailStart]
        try writeAtomically(Data(repaired), to: url)
    }

    /// Removes the records and events after `step`, for a run resumed from the checkpoint
    /// taken at `step`: the lines logged after that checkpoint describe steps that will be
    /// run again. Events without a step are kept; a cut-short final line is dropped. The
    /// file is rewritten through a temporary file, so a crash leaves the old or new file.
    /// - Returns: the number of lines removed.
    @discardableResult
    public static func rewind(_ url: URL, toStep step: Int) throws -> Int {
        let log = try MetricsLog.read(url)
        var kept = ""
        var removed = 0
        for entry in log.entries {
            let entryStep: Int?
            switch entry {
            case .record(let r): entryStep = r.step
            case .event(let e): entryStep = e.step
            }
            if let s = entryStep, s > step { removed += 1; continue }
            kept += entry.jsonLine + "\n"
        }
        try writeAtomically(Data(kept.utf8), to: url)
        return removed
    }

    static func writeAtomically(_ data: Data, to url: URL) throws {
        do {
            try AtomicFile.write([UInt8](data), to: url)
        } catch {
            throw MetricsLogError.writeFailed(path: url.path, reason: error.reason)
        }
    }
}
