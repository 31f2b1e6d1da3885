import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The tests that run the `fable` binary, one at a time: starting processes from several
/// tests at once has hung Foundation's `Process` on Linux, and the timing-based tests want
/// the machine to themselves.
@Suite("The fable binary", .serialized,
       .enabled(if: FableProcess.available, "the fable executable was not built beside the tests"))
struct FableBinaryTests {}

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
    ///
    /// Output goes to files, not pipes: a pipe's write end can leak into a child that
    /// another test starts at the same moment, and reading it would then wait for that
    /// child to end.
    static func run(_ arguments: [String], environment: [String: String] = [:], shell prefix: String? = nil,
                    timeout: Double = 120) throws -> Result {
        let process = try start(arguments, environment: environment, shell: prefix)
        let folder = scratchFolder("output")
        defer { try? FileManager.default.removeItem(at: folder) }
        let outURL = folder.appendingPathComponent("stdout"), errURL = folder.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = err
        try process.run()
        try? out.close()
        try? err.close()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return Result(status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
                      stdout: String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self),
                      stderr: String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self))
    }
}

/// A fresh empty folder under the temporary directory.
func scratchFolder(_ name: String) -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("fable-rel-\(name)-\(UUID().uuidString.prefix(8))")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
