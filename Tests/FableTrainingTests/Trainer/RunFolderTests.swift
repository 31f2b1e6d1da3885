import FableFormats
import FableTensor
import Foundation
import Testing
@testable import FableTraining
#if canImport(Glibc)
import Glibc
#endif

/// Run folders are never shared, never silently overwritten, and resume from the newest
/// checkpoint that loads.
@Suite("Run folder", .serialized)
struct RunFolderTests {
    @Test("a second run on a locked folder fails and names the holder; the lock frees when released")
    func lockedFolder() throws {
        let directory = freshDirectory("locked")
        try directory.create()
        // Another process's lock: flock on a separate open file conflicts even in one process.
        let path = directory.url.appendingPathComponent(RunLock.fileName).path
        let other = open(path, O_RDWR | O_CREAT, 0o644)
        #expect(other >= 0)
        #expect(flock(other, LOCK_EX | LOCK_NB) == 0)
        _ = "pid 4242 on elsewhere\n".withCString { pwrite(other, $0, strlen($0), 0) }

        let trainer = try Trainer(config: tinyConfig(), train: patternDataset("lock-train.npy"), val: nil)
        #expect(throws: TrainerError.runLocked(path: directory.url.path, holder: "pid 4242 on elsewhere")) {
            try trainer.run(in: directory)
        }
        #expect(!FileManager.default.fileExists(atPath: directory.metricsURL.path))

        flock(other, LOCK_UN)
        close(other)
        let result = try trainer.run(in: directory)
        #expect(result.outcome == .finished)
        // The lock is re-entrant inside one process and released after the run.
        let first = try RunLock.acquire(directory), second = try RunLock.acquire(directory)
        second.release()
        first.release()
        let again = open(path, O_RDWR)
        defer { close(again) }
        #expect(flock(again, LOCK_EX | LOCK_NB) == 0)
    }

    @Test("a user's own config.json in --out is not overwritten; a run that stopped before its first line is reused")
    func configAndEmptyRun() throws {
        let config = try tinyConfig()
        let directory = freshDirectory("foreign")
        try directory.create()
        let mine = Data("{\"my\": \"notes\"}\n".utf8)
        try mine.write(to: directory.configURL)
        let trainer = try Trainer(config: config, train: patternDataset("foreign-train.npy"), val: nil)
        #expect(throws: TrainerError.foreignConfig(path: directory.configURL.path)) { try trainer.run(in: directory) }
        #expect(FileManager.default.contents(atPath: directory.configURL.path) == mine)

        // What a run killed before its first metrics line leaves: config.json, empty metrics.jsonl.
        let stopped = freshDirectory("stopped")
        try stopped.create()
        try stopped.writeConfig(config)
        _ = FileManager.default.createFile(atPath: stopped.metricsURL.path, contents: Data())
        #expect(!stopped.holdsRun)
        let result = try Trainer(config: config, train: patternDataset("stopped-train.npy"), val: nil).run(in: stopped)
        #expect(result.outcome == .finished && result.step == 12)
    }

    @Test("temporaries of killed writes are removed by the next run; a live process's are kept")
    func staleTemporaries() throws {
        let directory = freshDirectory("stale")
        try directory.create()
        let dead = Int32.max  // above any pid_max: no such process
        let names = [".step_000004.safetensors.tmp-\(dead)-12345", ".metrics.jsonl.tmp-\(dead)",
                     ".step_000008.safetensors.tmp-\(getpid())-1", "notes.tmp-\(dead)"]
        for name in names {
            let folder = name.hasPrefix(".step") ? directory.checkpointsURL : directory.url
            #expect(FileManager.default.createFile(atPath: folder.appendingPathComponent(name).path, contents: Data(count: 1000)))
        }
        try directory.create()
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: directory.url.path)
            + FileManager.default.contentsOfDirectory(atPath: directory.checkpointsURL.path))
        #expect(!left.contains(names[0]) && !left.contains(names[1]))
        #expect(left.contains(names[2]) && left.contains(names[3]))  // live owner; not a temporary's name
        #expect(StaleTemporaryFiles.ownerPID(of: ".x.npy.tmp-42-7") == 42)
        #expect(StaleTemporaryFiles.ownerPID(of: "x.npy.tmp-42") == nil)
    }

    @Test("resume skips a truncated newest checkpoint, moves it aside and continues from the one before")
    func resumeFallsBack() throws {
        let config = try tinyConfig()
        let train = try patternDataset("fallback-train.npy")
        let directory = freshDirectory("fallback")
        let first = try Trainer(config: config, train: train, val: nil)
        let stopped = try first.run(in: directory, shouldStop: { first.step >= 8 })
        #expect(stopped.step == 8)
        let newest = directory.checkpointURL(step: 8)
        #expect(directory.latestCheckpoint()?.lastPathComponent == newest.lastPathComponent)
        // A full disk cut the newest checkpoint short.
        let bytes = try Data(contentsOf: newest)
        try bytes.prefix(bytes.count / 2).write(to: newest)

        let (checkpoint, state, skipped) = try directory.loadNewestCheckpoint { url in
            try Checkpoint.runState(of: SafeTensorsFile(contentsOf: url))
        }
        #expect(checkpoint.lastPathComponent == "step_000004.safetensors" && state.step == 4)
        #expect(skipped.map(\.url.lastPathComponent) == ["step_000008.safetensors"])
        #expect(skipped.first?.movedTo?.lastPathComponent == "step_000008.safetensors.unloadable")
        #expect(directory.latestCheckpoint()?.lastPathComponent == "step_000004.safetensors")
        #expect(directory.stepCheckpoints().map(\.step) == [4])

        let second = try Trainer(config: config, train: train, val: nil)
        try second.restore(from: checkpoint)
        let result = try second.run(in: directory)
        #expect(result.outcome == .finished && result.step == 12)

        // Nothing loads: the error lists each file's reason.
        let empty = freshDirectory("nothing")
        try empty.create()
        #expect(throws: TrainerError.self) { try empty.loadNewestCheckpoint { _ in 0 } }
    }
}
