import ArgumentParser
import Foundation
import FableTensor

/// `fable bench gemm`: GFLOP/s of each matrix-multiply backend at the training shapes of
/// the 17M-parameter TinyStories model (8192 rows = batch 32 x context 256).
struct BenchGEMM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "Time matrix products at the 17M TinyStories model's training shapes.",
        discussion: """
            Each Linear layer (weight W of shape out x in, as in PyTorch) runs three products \
            per step: forward Y = X W^T, backward dX = dY W and dW = dY^T X, with X of \
            8192 rows. The figure is the median over the repeats after one warm-up run, \
            followed by its fraction of the FMA peak (measured first, per thread, times the \
            threads). Fable's own kernel is timed for every instruction set this CPU has, and \
            the bf16 kernels (bf16 inputs, fp32 accumulation) where the CPU has AVX512_BF16 and \
            AMX-BF16; their fractions are of the vdpbf16ps and the AMX tdpbf16ps peaks.
            Scripts/bench/gemm_bench.py runs PyTorch at the same shapes beside this.
            """
    )

    enum BackendOption: String, ExpressibleByArgument, CaseIterable {
        case blas, fable, swift, bf16, all
    }

    @Option(help: "Backends to time: blas, fable (the own kernels for every instruction set, beside BLAS when one loads), swift (the portable Swift kernel), bf16 (the bf16-input kernel, needs AVX512_BF16) or all (BLAS is skipped with a note if none loads, bf16 where the CPU lacks it).")
    var backend: BackendOption = .all

    @OptionGroup var threading: ThreadsOption
    var threads: Int { threading.threads }

    @Option(name: .customLong("repeat"), help: "Timed runs per shape and backend, after one warm-up.")
    var repeats: Int = 5

    @Option(help: "Rows of X, batch x context.")
    var rows: Int = 8192

    @Option(help: "Time only the product at this position in the list (1-12); default: all.")
    var shape: Int?

    @Option(help: "wall (elapsed time) or cpu (process CPU time / threads: steadier on a loaded machine; best with --threads 1).")
    var clock: BenchClock = .wall

    @Flag(help: "Print one JSON object per measurement instead of a table.")
    var json = false

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeat must be at least 1, got \(repeats)") }
        guard rows >= 1 else { throw ValidationError("--rows must be at least 1, got \(rows)") }
        let count = GEMMBenchShape.trainingShapes(rows: rows).count
        if let shape, !(1...count).contains(shape) {
            throw ValidationError("--shape must be between 1 and \(count), got \(shape)")
        }
    }

    func run() throws {
        try threading.apply()
        var backends: [any GEMMBackend] = []
        if backend != .swift && backend != .bf16 {
            switch BLASLibrary.load() {
            case .success(let library):
                backends.append(BLASBackend(library: library))
            case .failure(let error):
                if backend == .blas { throw BenchError(message: "--backend blas: \(error)") }
                if !json { print("note: skipping BLAS: \(error)") }
            }
        }
        if backend == .fable || backend == .all {
            for isa in KernelISA.supported where isa != .swift { backends.append(SIMDGEMM(isa: isa)) }
        }
        if backend == .swift || backend == .all { backends.append(SIMDGEMM(isa: .swift)) }
        if backend == .bf16 || backend == .all {
            if let reason = BF16GEMM.unsupportedReason {
                if backend == .bf16 { throw BenchError(message: "--backend bf16: \(reason)") }
                if !json { print("note: skipping bf16: \(reason)") }
            } else {
                for kernel in BF16GEMM.Kernel.supported { backends.append(BF16GEMM(kernel: kernel)) }
            }
        }
        let peak = PeakFLOPS.measure(threads: threads, bf16: backends.contains { $0 is BF16GEMM })
        // Each backend's yardstick: the bf16 peak for the bf16 kernel, else the FMA peak.
        func peakAll(_ backend: any GEMMBackend) -> Double? {
            guard let bf16 = backend as? BF16GEMM else { return peak?.gflopsAllThreads }
            return bf16.kernel == .amx ? peak?.amxGflopsAllThreads : peak?.bf16GflopsAllThreads
        }

        if !json {
            print("threads: \(threads), repeats: \(repeats), clock: \(clock.rawValue) (median GFLOP/s after one warm-up, then % of FMA peak; bf16: % of the vdpbf16ps or AMX peak)")
            if let peak {
                print("peak:  \(peak.summary)")
            } else {
                print("peak:  not measured (no FMA instruction set on this CPU)")
            }
            for backend in backends { print("\(label(backend)): \(backend.name)") }
            let header = ["product".padding(toLength: 38, withPad: " ", startingAt: 0)]
                + backends.map { label($0).leftPadded(17) }
            print(header.joined())
        }
        var shapes = GEMMBenchShape.trainingShapes(rows: rows)
        if let shape { shapes = [shapes[shape - 1]] }
        // Per backend, each product's GFLOP and GFLOP/s, for the time-weighted summary line.
        var measured = [[(gflop: Double, gflops: Double)]](repeating: [], count: backends.count)
        for shape in shapes {
            let operands = GEMMBenchOperands(shape)
            defer { operands.deallocate() }
            var figures: [Double] = []
            let gflop = 2 * Double(shape.m) * Double(shape.n) * Double(shape.k) / 1e9
            for (index, backend) in backends.enumerated() {
                let gflops = operands.measure(backend, threads: threads, repeats: repeats, clock: clock)
                figures.append(gflops)
                measured[index].append((gflop, gflops))
                if json {
                    let yardstick = peakAll(backend)
                    let fraction = yardstick.map { rounded(gflops / $0) } ?? "null"
                    print(#"{"product":"\#(shape.label)","m":\#(shape.m),"n":\#(shape.n),"k":\#(shape.k),"# +
                          #""backend":"\#(label(backend))","threads":\#(threads),"gflops":\#(rounded(gflops)),"# +
                          #""peak_gflops":\#(yardstick.map(rounded) ?? "null"),"fraction_of_peak":\#(fraction)}"#)
                }
            }
            if !json {
                let cells = zip(figures, backends).map { figure, backend in
                    let percent = peakAll(backend).map { String(format: " %3.0f%%", 100 * figure / $0) } ?? ""
                    return (String(format: "%.1f", figure) + percent).leftPadded(17)
                }
                print(shape.label.padding(toLength: 38, withPad: " ", startingAt: 0) + cells.joined())
            }
        }
        if !json && shapes.count > 1 {
            // All the products in turn, as a training step runs them: total FLOPs over total time.
            let overall = measured.map(Self.timeWeighted)
            let cells = zip(overall, backends).map { figure, backend in
                let percent = peakAll(backend).map { String(format: " %3.0f%%", 100 * figure / $0) } ?? ""
                return (String(format: "%.1f", figure) + percent).leftPadded(17)
            }
            print("all, time-weighted (FLOPs / time)".padding(toLength: 38, withPad: " ", startingAt: 0)
                  + cells.joined())
            if let blas = backends.firstIndex(where: { $0 is BLASBackend }) {
                let ratios = backends.indices.filter { $0 != blas }.map { index in
                    "\(label(backends[index])) \(String(format: "%.3f", overall[index] / overall[blas]))"
                }
                print("each / blas, time-weighted: " + ratios.joined(separator: ", "))
            }
        }
    }

    /// The rate of running all `products` one after another: their total FLOPs over their
    /// total time, so each product weighs by the time it takes (not a mean of rates).
    static func timeWeighted(_ products: [(gflop: Double, gflops: Double)]) -> Double {
        let seconds = products.reduce(0) { $0 + $1.gflop / $1.gflops }
        return products.reduce(0) { $0 + $1.gflop } / seconds
    }

    private func label(_ backend: any GEMMBackend) -> String {
        if backend is BLASBackend { return "blas" }
        if let own = backend as? SIMDGEMM { return own.isa == .swift ? "swift" : own.isa.rawValue }
        if let bf16 = backend as? BF16GEMM { return bf16.kernel == .amx ? "bf16-amx" : "bf16-avx512" }
        return backend.name
    }

    private func rounded(_ value: Double) -> String { String(format: "%.2f", value) }
}

// MARK: - Shapes

/// One product to time: `C (m x n) = op(A) op(B)`.
struct GEMMBenchShape {
    let label: String
    let transposeA: Bool, transposeB: Bool
    let m: Int, n: Int, k: Int

    /// Forward, input-gradient and weight-gradient products of each distinct Linear layer
    /// of the 17M model (d_model 512, d_ff 1344, vocabulary 10000).
    static func trainingShapes(rows: Int) -> [GEMMBenchShape] {
        let layers = [(512, 512, "attn proj"), (512, 1344, "ffn w1/w3"), (1344, 512, "ffn w2"), (512, 10000, "lm_head")]
        var shapes: [GEMMBenchShape] = []
        for (inputs, outputs, _) in layers {
            shapes.append(GEMMBenchShape(
                label: "fwd  \(rows)x\(inputs) @ (\(outputs)x\(inputs))^T",
                transposeA: false, transposeB: true, m: rows, n: outputs, k: inputs))
            shapes.append(GEMMBenchShape(
                label: "dX   \(rows)x\(outputs) @ \(outputs)x\(inputs)",
                transposeA: false, transposeB: false, m: rows, n: inputs, k: outputs))
            shapes.append(GEMMBenchShape(
                label: "dW   (\(rows)x\(outputs))^T @ \(rows)x\(inputs)",
                transposeA: true, transposeB: false, m: outputs, n: inputs, k: rows))
        }
        return shapes
    }
}

/// Random operands for one shape, stored as the transposes say.
struct GEMMBenchOperands {
    let shape: GEMMBenchShape
    let a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>
    let lda: Int, ldb: Int

    init(_ shape: GEMMBenchShape) {
        self.shape = shape
        lda = shape.transposeA ? shape.m : shape.k
        ldb = shape.transposeB ? shape.k : shape.n
        a = .allocate(capacity: shape.m * shape.k)
        b = .allocate(capacity: shape.k * shape.n)
        c = .allocate(capacity: shape.m * shape.n)
        var rng = RandomGenerator(seed: 1)
        for i in 0..<(shape.m * shape.k) { a[i] = Float(rng.nextNormal()) }
        for i in 0..<(shape.k * shape.n) { b[i] = Float(rng.nextNormal()) }
        c.initialize(repeating: 0, count: shape.m * shape.n)
    }

    func deallocate() {
        a.deallocate(); b.deallocate(); c.deallocate()
    }

    /// Median GFLOP/s over `repeats` timed runs after one warm-up.
    func measure(_ backend: any GEMMBackend, threads: Int, repeats: Int, clock: BenchClock = .wall) -> Double {
        func once() -> Double {
            let start = clock.now(threads: threads)
            backend.sgemm(
                transposeA: shape.transposeA, transposeB: shape.transposeB,
                m: shape.m, n: shape.n, k: shape.k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb,
                beta: 0, c: c, ldc: shape.n, threads: threads)
            return clock.now(threads: threads) - start
        }
        _ = once()
        let times = (0..<repeats).map { _ in once() }.sorted()
        let median = times.count % 2 == 1
            ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
        return 2 * Double(shape.m) * Double(shape.n) * Double(shape.k) / median / 1e9
    }
}

/// A failure while benchmarking, reported by the CLI as "Error: message" with exit code 1.
struct BenchError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
