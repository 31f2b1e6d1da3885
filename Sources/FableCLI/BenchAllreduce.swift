import ArgumentParser
import FableDistributed
import FableWorkbench
import Foundation

/// `fable bench allreduce`: times float32 all-reduce over the ranks of an MPI job, or with
/// `--check` verifies every collective against closed-form sums. Run it under a launcher:
/// `mpirun -np 2 fable bench allreduce --sizes 1,10,100`.
struct BenchAllreduce: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allreduce",
        abstract: "Time float32 all-reduce between MPI ranks (run under mpirun or srun).",
        discussion: """
            Each size is reduced --iterations times after --warmup untimed ones; rank 0 prints \
            the median time (the slowest rank's), the algorithm bandwidth (bytes / time) and \
            the bus bandwidth (2 (N - 1) / N x bytes / time, comparable across rank counts). \
            --check instead runs barrier, all-reduce, nonblocking all-reduce, reduce-scatter, \
            all-gather and broadcast once each and compares every element with its closed form.
            """
    )

    @Option(help: ArgumentHelp("Buffer sizes in megabytes (10^6 bytes), comma-separated.", valueName: "list"))
    var sizes: String = "1,10,100"

    @Option(help: "Timed repetitions per size.")
    var iterations: Int = 10

    @Option(help: "Untimed repetitions per size first.")
    var warmup: Int = 2

    @Flag(help: "Verify the collectives instead of timing them.")
    var check = false

    @Flag(help: "Print JSON lines instead of a table.")
    var json = false

    func run() throws {
        let communicator: Communicator
        do { communicator = try Communicator.connect() } catch { throw CommandFailure("\(error)") }
        do {
            if check { try verify(communicator) } else { try time(communicator) }
        } catch {
            communicator.abort(code: 1, message: "error: \(error)")
        }
        communicator.finalize()
    }

    private func time(_ communicator: Communicator) throws {
        let megabytes = try sizes.split(separator: ",").map { text -> Double in
            guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value > 0 else {
                throw ValidationError("--sizes: '\(text)' is not a positive number of megabytes")
            }
            return value
        }
        let ranks = communicator.size
        if communicator.isRoot && !json {
            print("all-reduce, float32 sum, \(communicator.summary)")
            print("    size      median    alg bandwidth   bus bandwidth")
        }
        for mb in megabytes {
            let count = max(1, Int(mb * 1e6) / 4)
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
            defer { buffer.deallocate() }
            buffer.initialize(repeating: 1)
            var times: [Double] = []
            for iteration in 0..<(warmup + iterations) {
                try communicator.barrier()
                let start = Communicator.now()
                try communicator.allreduce(buffer)
                let local = Communicator.now() - start
                let slowest = try communicator.allreduce([local], .max)[0]
                if iteration >= warmup { times.append(slowest) }
                buffer.update(repeating: 1)
            }
            times.sort()
            let median = times[times.count / 2]
            let bytes = Double(count * 4)
            let algorithm = bytes / median / 1e9
            let bus = algorithm * 2 * Double(ranks - 1) / Double(ranks)
            guard communicator.isRoot else { continue }
            if json {
                print("{\"ranks\":\(ranks),\"megabytes\":\(mb),\"median_seconds\":\(median),\"algbw_GBps\":\(algorithm),\"busbw_GBps\":\(bus)}")
            } else {
                print(String(format: "%7.1f MB  %9.3f ms  %9.3f GB/s  %11.3f GB/s", mb, median * 1000, algorithm, bus))
            }
        }
    }

    /// Every collective once, each element compared with its exact value (small integers
    /// in float32, so sums are exact in any order).
    private func verify(_ communicator: Communicator) throws {
        let ranks = communicator.size, rank = communicator.rank
        let rankSum = Float(ranks * (ranks + 1) / 2)
        func fail(_ what: String, _ index: Int, _ got: Float, _ expected: Float) -> CommandFailure {
            CommandFailure("\(what): element \(index) is \(got), expected \(expected)")
        }
        try communicator.barrier()

        let n = 1000 + 3  // not a multiple of anything in particular
        var data = (0..<n).map { Float(rank + 1) * Float($0 % 7 + 1) }
        try data.withUnsafeMutableBufferPointer { try communicator.allreduce($0) }
        for (i, x) in data.enumerated() where x != rankSum * Float(i % 7 + 1) {
            throw fail("all-reduce", i, x, rankSum * Float(i % 7 + 1))
        }

        let big = UnsafeMutableBufferPointer<Float>.allocate(capacity: 1 << 20)
        defer { big.deallocate() }
        for i in 0..<big.count { big[i] = Float(rank + 1) * Float(i % 5) }
        let request = try communicator.startAllreduce(big)
        while try !request.test() {}
        for i in 0..<big.count where big[i] != rankSum * Float(i % 5) {
            throw fail("nonblocking all-reduce", i, big[i], rankSum * Float(i % 5))
        }

        let block = 257
        let full = (0..<(block * ranks)).map { Float(rank + 1) * Float($0 % 11) }
        var shard = [Float](repeating: -1, count: block)
        try full.withUnsafeBufferPointer { source in
            try shard.withUnsafeMutableBufferPointer { try communicator.reduceScatter(source, into: $0) }
        }
        for (i, x) in shard.enumerated() where x != rankSum * Float((rank * block + i) % 11) {
            throw fail("reduce-scatter", i, x, rankSum * Float((rank * block + i) % 11))
        }

        var gathered = [Float](repeating: -1, count: block * ranks)
        for i in 0..<block { gathered[rank * block + i] = Float(rank * 1000 + i) }
        try gathered.withUnsafeMutableBufferPointer { try communicator.allGather(inPlace: $0) }
        for (i, x) in gathered.enumerated() where x != Float((i / block) * 1000 + i % block) {
            throw fail("all-gather", i, x, Float((i / block) * 1000 + i % block))
        }

        let root = ranks - 1
        var broadcast = (0..<100).map { Float(rank == root ? $0 * 3 : -1) }
        try broadcast.withUnsafeMutableBufferPointer { try communicator.broadcast($0, root: root) }
        for (i, x) in broadcast.enumerated() where x != Float(i * 3) {
            throw fail("broadcast", i, x, Float(i * 3))
        }
        let maxima = try communicator.allreduce([Double(rank)], .max)
        guard maxima == [Double(ranks - 1)] else {
            throw CommandFailure("all-reduce max: got \(maxima[0]), expected \(ranks - 1)")
        }
        try communicator.barrier()
        if communicator.isRoot {
            print("collectives ok: barrier, all-reduce, nonblocking all-reduce, reduce-scatter, all-gather, broadcast; "
                + communicator.summary)
        }
    }
}
