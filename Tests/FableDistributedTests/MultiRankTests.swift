import FableTensor
import FableTestSupport
import Foundation
import Testing

/// Jobs of several processes under `mpirun`, checked against one process training on the
/// same global batch in the same sample order. Skipped when mpirun is not installed.
@Suite("Multi-rank training under mpirun", .serialized, .enabled(if: MultiRank.unavailable == nil, "\(MultiRank.unavailable ?? "")"))
struct MultiRankTests {
    @Test("every collective gives its closed-form result at 2 and 3 ranks")
    func collectives() throws {
        let folder = try MultiRank.makeWorkspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        for ranks in [2, 3] {
            let output = try MultiRank.run(ranks: ranks, ["bench", "allreduce", "--check"], in: folder, timeout: 120)
            #expect(output.status == 0, "\(output.text)")
            #expect(output.text.contains("collectives ok") && output.text.contains("rank 0 of \(ranks)"), "\(output.text)")
        }
    }

    /// The weights of a checkpoint by parameter name (optimizer state left out).
    static func weights(_ url: URL) throws -> [String: [Float]] {
        let file = try SafeTensorsFile(contentsOf: url)
        var result: [String: [Float]] = [:]
        for tensor in file.tensors where !tensor.name.hasPrefix("optimizer.") {
            result[tensor.name] = try file.floats(named: tensor.name)
        }
        return result
    }

    static func expectClose(_ a: [String: [Float]], _ b: [String: [Float]], tolerance: Float) {
        #expect(Set(a.keys) == Set(b.keys))
        for (name, x) in a {
            guard let y = b[name], y.count == x.count else { Issue.record("\(name) missing or resized"); continue }
            let worst = zip(x, y).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= tolerance, "\(name): largest difference \(worst)")
        }
    }

    @Test("2 ranks x batch 4 == 1 process x batch 8 == 1 process x batch 4 x 2 accumulated; resume 2 ranks -> 1 rank")
    func dataParallelMatchesOneProcess() throws {
        let folder = try MultiRank.makeWorkspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let single = try MultiRank.run(ranks: 0, MultiRank.tinyRun(out: "single", batchSize: 8), in: folder)
        #expect(single.status == 0, "\(single.text)")
        let accumulated = try MultiRank.run(ranks: 0, MultiRank.tinyRun(out: "accum", batchSize: 4, extra: ["grad_accum_steps=2"]),
                                            in: folder)
        #expect(accumulated.status == 0, "\(accumulated.text)")
        let parallel = try MultiRank.run(ranks: 2, MultiRank.tinyRun(out: "ranks2", batchSize: 4), in: folder)
        #expect(parallel.status == 0, "\(parallel.text)")
        #expect(parallel.text.contains("rank 0 of 2"))
        // Bucketed, with each layer its own bucket: the same sums in other pieces.
        let small = try MultiRank.run(ranks: 2, MultiRank.tinyRun(out: "buckets", batchSize: 4, extra: ["bucket_mb=0.001"]),
                                      in: folder)
        #expect(small.status == 0, "\(small.text)")
        let noOverlap = try MultiRank.run(ranks: 2, MultiRank.tinyRun(out: "nooverlap", batchSize: 4, extra: ["overlap_communication=false"]),
                                          in: folder)
        #expect(noOverlap.status == 0, "\(noOverlap.text)")

        let reference = try MultiRank.trainLosses(folder.appendingPathComponent("single"))
        #expect(reference.count == 10)
        for run in ["accum", "ranks2", "buckets", "nooverlap"] {
            let losses = try MultiRank.trainLosses(folder.appendingPathComponent(run))
            for step in 1...10 {
                let a = reference[step] ?? .nan, b = losses[step] ?? -1
                #expect(abs(a - b) <= 1e-5 * max(1, abs(a)), "\(run) step \(step): loss \(b) vs \(a)")
            }
            let final = "\(run)/checkpoints/step_000010.safetensors"
            Self.expectClose(try Self.weights(folder.appendingPathComponent(final)),
                             try Self.weights(folder.appendingPathComponent("single/checkpoints/step_000010.safetensors")),
                             tolerance: 2e-5)
        }
        // Only rank 0 wrote: one metrics file, one set of checkpoints.
        #expect(!parallel.text.contains("rank 1 of 2"))

        // Resume: 2 ranks stop at step 5, one process with 2 accumulated micro-batches finishes.
        let first = try MultiRank.run(ranks: 2, MultiRank.tinyRun(out: "resume", batchSize: 4, steps: 5), in: folder)
        #expect(first.status == 0, "\(first.text)")
        let second = try MultiRank.run(ranks: 0, ["train", "--resume", "resume", "--quiet", "--threads", "1",
                                                  "--set", "steps=10", "--set", "grad_accum_steps=2"], in: folder)
        #expect(second.status == 0, "\(second.text)")
        #expect(second.text.contains("written by 2 ranks"), "\(second.text)")
        let resumed = try MultiRank.trainLosses(folder.appendingPathComponent("resume"))
        for step in 1...10 {
            let a = reference[step] ?? .nan, b = resumed[step] ?? -1
            #expect(abs(a - b) <= 1e-5 * max(1, abs(a)), "resumed step \(step): loss \(b) vs \(a)")
        }
        Self.expectClose(try Self.weights(folder.appendingPathComponent("resume/checkpoints/step_000010.safetensors")),
                         try Self.weights(folder.appendingPathComponent("single/checkpoints/step_000010.safetensors")),
                         tolerance: 2e-5)
    }

    @Test("sharded optimizer state (ZeRO-1) == unsharded, AdamW and Muon; a sharded checkpoint resumes in one process")
    func shardedMatchesUnsharded() throws {
        let folder = try MultiRank.makeWorkspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        for optimizer in ["adamw", "muon"] {
            let kind = "optimizer.kind=\(optimizer)"
            let plain = try MultiRank.run(ranks: 2, MultiRank.tinyRun(out: "\(optimizer)-plain", batchSize: 4, extra: [kind]), in: folder)
            #expect(plain.status == 0, "\(plain.text)")
            let sharded = try MultiRank.run(ranks: 2, MultiRank.tinyRun(out: "\(optimizer)-sharded", batchSize: 4,
                                                                        extra: [kind, "shard_optimizer=true"]), in: folder)
            #expect(sharded.status == 0, "\(sharded.text)")
            #expect(sharded.text.contains("optimizer state") && sharded.text.contains("saves"), "\(sharded.text)")
            let a = try MultiRank.trainLosses(folder.appendingPathComponent("\(optimizer)-plain"))
            let b = try MultiRank.trainLosses(folder.appendingPathComponent("\(optimizer)-sharded"))
            #expect(a.count == 10)
            for step in 1...10 {
                #expect(abs((a[step] ?? .nan) - (b[step] ?? -1)) <= 1e-5, "\(optimizer) step \(step)")
            }
            // The whole optimizer state is in both checkpoints, equal to rounding.
            let final = "checkpoints/step_000010.safetensors"
            let plainFile = try SafeTensorsFile(contentsOf: folder.appendingPathComponent("\(optimizer)-plain/\(final)"))
            let shardedFile = try SafeTensorsFile(contentsOf: folder.appendingPathComponent("\(optimizer)-sharded/\(final)"))
            #expect(plainFile.tensors.map(\.name).sorted() == shardedFile.tensors.map(\.name).sorted())
            for tensor in plainFile.tensors {
                let x = try plainFile.floats(named: tensor.name), y = try shardedFile.floats(named: tensor.name)
                let worst = zip(x, y).map { abs($0 - $1) }.max() ?? 0
                #expect(worst <= 2e-5, "\(optimizer) \(tensor.name): largest difference \(worst)")
            }
        }
        // 2 sharded ranks stop at step 5; one process finishes like the unsharded 2-rank run.
        let first = try MultiRank.run(ranks: 2, MultiRank.tinyRun(out: "shard-resume", batchSize: 4, steps: 5,
                                                                  extra: ["shard_optimizer=true"]), in: folder)
        #expect(first.status == 0, "\(first.text)")
        let second = try MultiRank.run(ranks: 0, ["train", "--resume", "shard-resume", "--quiet", "--threads", "1",
                                                  "--set", "steps=10", "--set", "grad_accum_steps=2"], in: folder)
        #expect(second.status == 0, "\(second.text)")
        let reference = try MultiRank.trainLosses(folder.appendingPathComponent("adamw-plain"))
        let resumed = try MultiRank.trainLosses(folder.appendingPathComponent("shard-resume"))
        for step in 1...10 {
            #expect(abs((reference[step] ?? .nan) - (resumed[step] ?? -1)) <= 1e-5, "resumed step \(step)")
        }
    }

    @Test("an error on one rank ends every rank (MPI_Abort) with a message naming the rank")
    func erroringRank() throws {
        let folder = try MultiRank.makeWorkspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = try MultiRank.run(ranks: 0, MultiRank.tinyRun(out: "taken", batchSize: 4, steps: 1), in: folder)
        #expect(first.status == 0, "\(first.text)")
        // Only rank 0 checks the run folder; rank 1 goes on into training and waits in its
        // first collective until rank 0's MPI_Abort ends it.
        let output = try MultiRank.run(ranks: 2, MultiRank.tinyRun(out: "taken", batchSize: 4), in: folder, timeout: 120)
        #expect(output.status != 0, "\(output.text)")
        #expect(output.text.contains("rank 0 of 2: error:") && output.text.contains("already holds a training run"),
                "\(output.text)")
        #expect(output.seconds < 60, "the job took \(output.seconds) s to end")
    }

    @Test("a rank killed mid-run ends the whole job with an error within seconds")
    func killedRank() throws {
        let folder = try MultiRank.makeWorkspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        var killedAt: Date?
        let output = try MultiRank.run(ranks: 2, MultiRank.tinyRun(out: "killed", batchSize: 4, steps: 100_000), in: folder,
                                       timeout: 120) { mpirun in
            // Wait for training to start, then SIGKILL rank 1 (a child of mpirun).
            let metrics = folder.appendingPathComponent("killed/metrics.jsonl")
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline, ((try? Data(contentsOf: metrics))?.count ?? 0) == 0 { usleep(100_000) }
            guard let pid = Self.child(of: mpirun.processIdentifier, rank: 1) else {
                Issue.record("rank 1's process not found")
                return
            }
            kill(pid, SIGKILL)
            killedAt = Date()
        }
        #expect(output.status != 0, "\(output.text)")
        #expect(output.text.contains("signal 9"), "\(output.text)")
        if let killedAt {
            #expect(Date().timeIntervalSince(killedAt) < 30, "the job took \(Date().timeIntervalSince(killedAt)) s to end")
        }
    }

    /// The process whose parent is `parent` and whose environment says it is `rank`.
    static func child(of parent: Int32, rank: Int) -> Int32? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for entry in entries {
            guard let pid = Int32(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, Int32(fields[1]) == parent,
                  let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { continue }
            let variables = environ.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if variables.contains("OMPI_COMM_WORLD_RANK=\(rank)") { return pid }
        }
        return nil
    }
}
