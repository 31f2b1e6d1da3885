import FableTestSupport
import Foundation

/// Runs the built `fable` binary, alone or under `mpirun`, for the multi-rank tests.
enum MultiRank {
    /// The `fable` executable beside the test bundle (SwiftPM builds it with the tests), or
    /// `FABLE_BINARY`.
    static let fable: URL? = {
        if let path = ProcessInfo.processInfo.environment["FABLE_BINARY"] { return URL(fileURLWithPath: path) }
        var candidates: [URL] = []
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var folder = runner.deletingLastPathComponent()
        for _ in 0..<4 {  // the .xctest bundle may nest the binary a few levels down
            candidates.append(folder.appendingPathComponent("fable"))
            folder = folder.deletingLastPathComponent()
        }
        candidates.append(TestData.packageRoot.appendingPathComponent(".build/debug/fable"))
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()

    /// `mpirun` on the PATH.
    static let mpirun: URL? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent("mpirun") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()

    /// Why the multi-rank tests cannot run here, or nil when they can.
    static var unavailable: String? {
        if mpirun == nil { return "mpirun not found (install openmpi-bin); multi-rank tests skipped" }
        if fable == nil { return "the fable binary was not found beside the tests; set FABLE_BINARY" }
        return nil
    }

    /// Options that let Open MPI run in a container as root on a small machine: more ranks
    /// than cores, no core binding, no cross-memory attach (often forbidden in containers).
    static let mpirunOptions = ["--oversubscribe", "--bind-to", "none",
                                "--mca", "btl_vader_single_copy_mechanism", "none", "--mca", "mpi_yield_when_idle", "1"]

    struct Output {
        var status: Int32
        var text: String
        var seconds: Double
    }

    /// Runs `fable arguments` under `mpirun -np ranks` (ranks > 0) or directly (ranks 0).
    /// Kills it after `timeout` seconds.
    static func run(ranks: Int, _ arguments: [String], in folder: URL, timeout: Double = 300,
                    whileRunning: ((Process) -> Void)? = nil) throws -> Output {
        let process = Process()
        if ranks > 0 {
            process.executableURL = mpirun!
            process.arguments = ["-np", String(ranks)] + mpirunOptions + [fable!.path] + arguments
        } else {
            process.executableURL = fable!
            process.arguments = arguments
        }
        var environment = ProcessInfo.processInfo.environment
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        // The test process itself may run under a launcher; its ranks must not leak in.
        for key in environment.keys where key.hasPrefix("OMPI_COMM_WORLD") || key.hasPrefix("PMIX_") || key.hasPrefix("PMI_") {
            environment[key] = nil
        }
        process.environment = environment
        process.currentDirectoryURL = folder
        let log = folder.appendingPathComponent("output-\(UUID().uuidString).txt")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        let start = Date()
        try process.run()
        whileRunning?(process)
        while process.isRunning && Date().timeIntervalSince(start) < timeout { usleep(50_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try handle.close()
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return Output(status: process.terminationStatus, text: text, seconds: Date().timeIntervalSince(start))
    }

    /// Writes `tokens` as a one-dimensional uint16 .npy file.
    static func writeTokens(_ tokens: [UInt16], to url: URL) throws {
        var header = "{'descr': '<u2', 'fortran_order': False, 'shape': (\(tokens.count),), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        tokens.withUnsafeBytes { data.append(contentsOf: $0) }
        try data.write(to: url)
    }

    /// A scratch folder with a small structured token corpus (train.npy, val.npy).
    static func makeWorkspace() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fable-mpi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var state: UInt32 = 12345
        let tokens = (0..<20_000).map { i -> UInt16 in
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt16((i * 7 % 61) + Int(state >> 30))
        }
        try writeTokens(tokens, to: folder.appendingPathComponent("train.npy"))
        try writeTokens(Array(tokens[0..<3000]), to: folder.appendingPathComponent("val.npy"))
        return folder
    }

    /// Training options for a tiny model on the workspace's corpus.
    static func tinyRun(out: String, batchSize: Int, steps: Int = 10, extra: [String] = []) -> [String] {
        ["train", "--preset", "cpu-small", "--train", "train.npy", "--val", "val.npy", "--out", out,
         "--threads", "1", "--quiet",
         "--set", "model.vocab_size=64", "--set", "model.context_length=16", "--set", "model.d_model=32",
         "--set", "model.num_layers=2", "--set", "model.num_heads=2", "--set", "model.d_ff=64",
         "--set", "schedule.warmup_steps=2", "--set", "schedule.cosine_steps=10", "--set", "steps=\(steps)",
         "--set", "eval_interval=5", "--set", "log_interval=1", "--set", "batch_size=\(batchSize)"] + extra.flatMap { ["--set", $0] }
    }

    /// The `train_loss` of every step line of a run's metrics.jsonl, by step.
    static func trainLosses(_ run: URL) throws -> [Int: Double] {
        let text = try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        var losses: [Int: Double] = [:]
        for line in text.split(separator: "\n") {
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let step = object["step"] as? Int, let loss = object["train_loss"] as? Double else { continue }
            losses[step] = loss
        }
        return losses
    }
}
