import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive lock on a run folder, so two `fable train` (or `--resume`) processes never
/// interleave one run's config, checkpoints and metrics.
///
/// The lock is `flock` on `RUN_DIR/.lock`, which holds "pid N on HOST" of the holder for
/// the error message. The kernel releases it when the holder exits, even after `kill -9`,
/// so a stale file never blocks a later run. Inside one process the lock is re-entrant:
/// the CLI takes it before choosing a checkpoint and the trainer takes it again for the
/// run; the file is unlocked when the last holder releases it.
public final class RunLock: @unchecked Sendable {
    /// The lock file inside the run folder.
    public static let fileName = ".lock"

    private let path: String
    private var released = false

    private init(path: String) { self.path = path }

    /// Locks `directory` (created when missing).
    /// - Throws: ``TrainerError/runLocked(path:holder:)`` when another process holds it,
    ///   ``TrainerError/fileSystem(path:reason:)`` when the lock file cannot be opened.
    public static func acquire(_ directory: RunDirectory) throws -> RunLock {
        do {
            try FileManager.default.createDirectory(at: directory.url, withIntermediateDirectories: true)
        } catch {
            throw TrainerError.fileSystem(path: directory.url.path, reason: "cannot create the run folder (\(error.localizedDescription))")
        }
        let path = directory.url.appendingPathComponent(fileName).path
        registry.lock()
        defer { registry.unlock() }
        if let held = heldLocks[path] {
            heldLocks[path] = (held.descriptor, held.count + 1)
            return RunLock(path: path)
        }
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw TrainerError.fileSystem(path: path, reason: "cannot open the lock file (\(String(cString: strerror(errno))))")
        }
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let failure = errno
            let holder = readHolder(descriptor)
            close(descriptor)
            if failure == EWOULDBLOCK {
                throw TrainerError.runLocked(path: directory.url.path, holder: holder ?? "its process did not say which")
            }
            throw TrainerError.fileSystem(path: path, reason: "cannot lock (\(String(cString: strerror(failure))))")
        }
        // The holder's name, for the next process that finds the folder locked.
        let text = "pid \(getpid()) on \(ProcessInfo.processInfo.hostName)\n"
        _ = ftruncate(descriptor, 0)
        _ = text.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        heldLocks[path] = (descriptor, 1)
        return RunLock(path: path)
    }

    /// Releases this hold; the file is unlocked when the process's last hold goes.
    public func release() {
        registry.lock()
        defer { registry.unlock() }
        guard !released else { return }
        released = true
        guard let held = heldLocks[path] else { return }
        if held.count > 1 {
            heldLocks[path] = (held.descriptor, held.count - 1)
        } else {
            heldLocks[path] = nil
            flock(held.descriptor, LOCK_UN)
            close(held.descriptor)
        }
    }

    deinit { release() }

    private static func readHolder(_ descriptor: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = pread(descriptor, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }
}

/// The locks this process holds: path -> (descriptor, holds).
private nonisolated(unsafe) var heldLocks: [String: (descriptor: Int32, count: Int)] = [:]
private let registry = NSLock()
