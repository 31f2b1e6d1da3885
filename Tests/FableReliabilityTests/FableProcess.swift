import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs the built `fable` executable as a child process, as a user or a scheduler would.
///
/// The binary is the one `swift build` put beside the test bundle (this target depends on
/// the `fable` target, so it is built first); `FABLE_BINARY` names another.
struct FableProcess {
    struct Result {
        var status: Int32
        /// True when a signal ended the process (a trap is SIGILL or SIGTRAP).
        var signalled: Bool
        var stdout: String
        var stderr: String
    }

    static let binary: URL? = {
        if let path = ProcessInfo.processInfo.environment["FABLE_BINARY"] { return URL(fileURLWithPath: path) }
        let bundleFolder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [bundleFolder.appendingPathComponent("fable"),
                          bundleFolder.deletingLastPathComponent().appendingPathComponent("fable")]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()

    static var available: Bool { binary != nil }

    /// Starts `fable arguments...`; the caller waits or kills.
    static func start(_ arguments: [String], environment: [String: String] = [:], shell prefix: String? = nil) throws -> Process {
        let process = Process()
        if let prefix {
            // A shell line, e.g. "ulimit -v 1000000; exec", placed before the command.
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            let quoted = ([binary!.path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
            process.arguments = ["-c", prefix + " " + quoted.joined(separator: " ")]
        } else {
            process.executableURL = binary!
            process.arguments = arguments
        }
        var env = ProcessInfo.processInfo.environment
        env["FABLE_THREADS"] = nil
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.standardInput = FileHandle.nullDevice
        return process
    }

    /// Runs `fable arguments...` to the end (killed after `timeout` seconds).
    static func run(_ arguments: [String], environment: [String: String] = [:], shell prefix: String? = nil,
                    timeout: Double = 120) throws -> Result {
        let process = try start(arguments, environment: environment, shell: prefix)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes while it runs, so a chatty child never blocks on a full pipe.
        let collected = Collected()
        let group = DispatchGroup()
        for (pipe, isOut) in [(out, true), (err, false)] {
            DispatchQueue.global().async(group: group) {
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                collected.set(data, isOut: isOut)
            }
        }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        group.wait()
        return Result(status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
                      stdout: String(decoding: collected.out, as: UTF8.self),
                      stderr: String(decoding: collected.err, as: UTF8.self))
    }

    private final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var out = Data(), err = Data()
        func set(_ data: Data, isOut: Bool) {
            lock.lock(); defer { lock.unlock() }
            if isOut { out = data } else { err = data }
        }
    }
}

/// A fresh empty folder under the temporary directory.
func scratchFolder(_ name: String) -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("fable-rel-\(name)-\(UUID().uuidString.prefix(8))")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
