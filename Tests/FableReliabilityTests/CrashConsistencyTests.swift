import FableTensor
import FableTraining
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A tiny run (vocab 16, d_model 16, one layer) that checkpoints every step.
private func tinyConfig(steps: Int, checkpointInterval: Int = 1) -> String {
    #"""
    {"model": {"vocab_size": 16, "context_length": 8, "d_model": 16, "num_layers": 1, "num_heads": 2, "d_ff": 32},
     "batch_size": 4, "steps": \#(steps), "eval_interval": 0, "eval_batches": 1, "checkpoint_interval": \#(checkpointInterval),
     "keep_checkpoints": 0, "log_interval": 1, "optimizer": {"lr": 0.01}, "schedule": {"warmup_steps": 2}, "threads": 1}
    """#
}

/// Writes `tokens` as a NumPy .npy file of little-endian uint16 (format version 1.0).
func writeTokens(_ tokens: [UInt16], to url: URL) throws {
    var header = "{'descr': '<u2', 'fortran_order': False, 'shape': (\(tokens.count),), }"
    while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
    data.append(contentsOf: [UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
    data.append(contentsOf: Array(header.utf8))
    for token in tokens { data.append(contentsOf: [UInt8(token & 0xFF), UInt8(token >> 8)]) }
    try data.write(to: url)
}

/// Tokens that mostly follow t[i+1] = (3 t[i] + 1) mod 16: something to learn.
private func patternTokens(_ count: Int) -> [UInt16] {
    var rng = RandomGenerator(seed: 5)
    var tokens: [UInt16] = [0]
    while tokens.count < count {
        tokens.append(rng.nextInt(below: 10) == 0 ? UInt16(rng.nextInt(below: 16)) : (tokens.last! * 3 + 1) % 16)
    }
    return tokens
}

/// Every tensor's bytes, by name.
private func tensors(_ url: URL) throws -> [String: [UInt8]] {
    let file = try SafeTensorsFile(contentsOf: url)
    var out: [String: [UInt8]] = [:]
    for name in file.names { out[name] = Array(try file.rawBytes(named: name)) }
    return out
}

extension FableBinaryTests {
@Suite("Crash consistency (the fable binary under kill -9 and SIGTERM)")
struct CrashConsistencyTests {
    @Test("kill -9 at random moments: every checkpoint loads, resume continues, final weights equal an uninterrupted run's")
    func killNine() throws {
        let folder = scratchFolder("crash")
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appendingPathComponent("config.json"), data = folder.appendingPathComponent("train.npy")
        try Data(tinyConfig(steps: 60).utf8).write(to: config)
        try writeTokens(patternTokens(4000), to: data)

        let whole = folder.appendingPathComponent("whole")
        let clean = try FableProcess.run(["train", "--config", config.path, "--train", data.path, "--out", whole.path, "--quiet"])
        #expect(clean.status == 0, "\(clean.stderr)")

        let killed = RunDirectory(folder.appendingPathComponent("killed"))
        var rng = RandomGenerator(seed: UInt64(Date().timeIntervalSince1970))
        var kills = 0, finishedEarly = false
        for _ in 0..<8 {
            let started = FileManager.default.fileExists(atPath: killed.configURL.path)
            let arguments = started
                ? ["train", "--resume", killed.url.path, "--train", data.path, "--quiet"]
                : ["train", "--config", config.path, "--train", data.path, "--out", killed.url.path, "--quiet"]
            let before = killed.stepCheckpoints().last?.step ?? -1
            let process = try FableProcess.start(arguments)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Let it get past start-up (slow in a debug build on a busy machine) and write a
            // checkpoint, then kill it a random moment later: mid-step, mid-checkpoint, anywhere.
            for _ in 0..<3000 where process.isRunning && (killed.stepCheckpoints().last?.step ?? -1) <= before { usleep(10_000) }
            usleep(UInt32(rng.nextInt(below: 150_000)))
            if !process.isRunning { finishedEarly = true; process.waitUntilExit(); break }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            kills += 1
            // Whatever moment the kill hit, every checkpoint on disk is whole.
            for (step, url) in killed.stepCheckpoints() {
                let state = try Checkpoint.runState(of: SafeTensorsFile(contentsOf: url))
                #expect(state.step == step)
            }
            if let latest = killed.latestCheckpoint() { _ = try SafeTensorsFile(contentsOf: latest) }
        }
        #expect(kills > 0 || finishedEarly)
        let resumed = try FableProcess.run(["train", "--resume", killed.url.path, "--train", data.path, "--quiet"])
        #expect(resumed.status == 0, "\(resumed.stderr)")

        let wholeRun = RunDirectory(whole)
        let expected = try tensors(#require(wholeRun.latestCheckpoint()))
        let actual = try tensors(#require(killed.latestCheckpoint()))
        #expect(expected.keys.sorted() == actual.keys.sorted())
        #expect(expected == actual, "weights after \(kills) kills differ from the uninterrupted run's")
        // The metrics describe one run: the same loss at every step.
        let losses = { (run: RunDirectory) in try MetricsLog.read(run.metricsURL).records.map { [Double($0.step), $0.trainLoss ?? .nan] } }
        #expect(try losses(killed) == losses(wholeRun))
    }

    @Test("SIGTERM (timeout, docker stop, Slurm) saves a checkpoint and exits like Ctrl-C; a second run on the folder is refused meanwhile")
    func sigtermSaves() throws {
        let folder = scratchFolder("term")
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appendingPathComponent("config.json"), data = folder.appendingPathComponent("train.npy")
        try Data(tinyConfig(steps: 1_000_000, checkpointInterval: 0).utf8).write(to: config)
        try writeTokens(patternTokens(4000), to: data)
        let run = RunDirectory(folder.appendingPathComponent("run"))
        let process = try FableProcess.start(["train", "--config", config.path, "--train", data.path, "--out", run.url.path, "--quiet"])
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        // Wait for the first metrics line: the run is under way.
        for _ in 0..<3000 where ((try? Data(contentsOf: run.metricsURL))?.count ?? 0) == 0 { usleep(10_000) }

        let second = try FableProcess.run(["train", "--resume", run.url.path, "--quiet"])
        #expect(second.status != 0)
        #expect(second.stderr.contains("in use by another training run (pid \(process.processIdentifier) on "), "\(second.stderr)")

        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<6000 where process.isRunning { usleep(10_000) }
        #expect(!process.isRunning, "SIGTERM did not stop the run within 60 s")
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 130)
        let checkpoint = try #require(run.latestCheckpoint())
        let state = try Checkpoint.runState(of: SafeTensorsFile(contentsOf: checkpoint))
        #expect(state.step > 0)
        #expect(try MetricsLog.read(run.metricsURL).events.last?.name == MetricsEvent.interrupted)
    }
}
}
