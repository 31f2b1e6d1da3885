import ArgumentParser
import FableTensor
import Foundation

/// `fable bench ops`: forward and forward+backward times of the fused tensor ops at the
/// 17M TinyStories model's shapes.
struct BenchOps: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ops",
        abstract: "Time the fused tensor ops (RMSNorm, SwiGLU, RoPE, attention, cross-entropy) at model shapes.",
        discussion: """
            Shapes follow the 17M TinyStories model: batch x context rows of d_model, \
            16 heads, d_ff 1344, vocabulary 10,000. Each op runs forward, then backward from \
            a fixed upstream gradient; the figure is the median over the repeats after one \
            warm-up. Scripts/bench/ops_bench.py runs the same PyTorch eager sequences beside it.
            """
    )

    @OptionGroup var threading: ThreadsOption
    var threads: Int { threading.threads }

    @Option(name: .customLong("repeat"), help: "Timed runs per op, after one warm-up.")
    var repeats: Int = 10

    @Option(help: "Batch size.")
    var batch: Int = 8

    @Option(help: "Context length (tokens per sequence).")
    var context: Int = 256

    @Option(help: "Model width d_model.")
    var dModel: Int = 512

    @Option(help: "Attention heads (d_model must divide by it).")
    var heads: Int = 16

    @Option(help: "Feed-forward width d_ff.")
    var dFF: Int = 1344

    @Option(help: "Vocabulary size (cross-entropy classes).")
    var vocab: Int = 10_000

    @Option(help: "Comma-separated ops to run: rmsnorm, swiglu_gate, swiglu_ffn, rope, attention, cross_entropy, or all.")
    var ops: String = "all"

    enum Clock: String, ExpressibleByArgument, CaseIterable {
        case wall, cpu
    }

    @Option(help: "wall: elapsed time; cpu: the calling thread's CPU time, which a busy shared machine disturbs less (needs --threads 1).")
    var clock: Clock = .wall

    @Flag(help: "Print one JSON object per op instead of a table.")
    var json = false

    static let allOps = ["rmsnorm", "swiglu_gate", "swiglu_ffn", "rope", "attention", "cross_entropy"]

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeat must be at least 1, got \(repeats)") }
        for (name, value) in [("--batch", batch), ("--context", context), ("--d-model", dModel),
                              ("--heads", heads), ("--d-ff", dFF), ("--vocab", vocab)] where value < 1 {
            throw ValidationError("\(name) must be at least 1, got \(value)")
        }
        guard dModel % heads == 0 else {
            throw ValidationError("--d-model \(dModel) must be divisible by --heads \(heads)")
        }
        guard clock == .wall || threads == 1 else {
            throw ValidationError("--clock cpu measures one thread: use it with --threads 1")
        }
        for op in selectedOps where !Self.allOps.contains(op) {
            throw ValidationError("--ops: unknown op '\(op)'; expected one of \(Self.allOps.joined(separator: ", ")) or all")
        }
    }

    var selectedOps: [String] {
        ops == "all" ? Self.allOps : ops.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    func run() throws {
        try threading.apply()
        var rng = RandomGenerator(seed: 0)
        let rows = batch * context
        if !json {
            print("fable bench ops: batch \(batch), context \(context), d_model \(dModel), heads \(heads), d_ff \(dFF), vocab \(vocab); \(threads) threads; \(clock.rawValue) clock; GEMM \(GEMM.backend.name)")
            print("op             forward ms   fwd+bwd ms")
        }
        for op in selectedOps {
            let (inputs, body) = makeCase(op, rows: rows, rng: &rng)
            let seedShape = withNoGrad { body(inputs) }.shape
            let seed = Tensor.normal(seedShape, generator: &rng)
            func forward() { withNoGrad { _ = body(inputs) } }
            func both() {
                for t in inputs { t.zeroGrad() }
                body(inputs).backward(seed: seed)
            }
            let f = median(time: forward)
            let fb = median(time: both)
            if json {
                print("{\"op\":\"\(op)\",\"threads\":\(threads),\"forward_ms\":\(f),\"forward_backward_ms\":\(fb),\"clock\":\"\(clock.rawValue)\"}")
            } else {
                print(op.padding(toLength: 14, withPad: " ", startingAt: 0)
                      + String(format: " %10.3f   %10.3f", f, fb))
            }
        }
    }

    /// The inputs (all requiring grad) and the op for one benchmark case.
    func makeCase(_ op: String, rows: Int, rng: inout RandomGenerator) -> ([Tensor], ([Tensor]) -> Tensor) {
        func input(_ shape: [Int], std: Float = 1) -> Tensor {
            Tensor.normal(shape, std: std, generator: &rng, requiresGrad: true)
        }
        switch op {
        case "rmsnorm":
            return ([input([batch, context, dModel]), input([dModel])], { t in
                Tensor.rmsNorm(t[0], gain: t[1], eps: 1e-5)
            })
        case "swiglu_gate":
            return ([input([batch, context, dFF]), input([batch, context, dFF])], { t in Tensor.swiGLU(t[0], t[1]) })
        case "swiglu_ffn":
            let std = (2 / Float(dModel + dFF)).squareRoot()
            return ([input([batch, context, dModel]), input([dFF, dModel], std: std),
                     input([dModel, dFF], std: std), input([dFF, dModel], std: std)], { t in
                Tensor.swiGLU(t[0], w1: t[1], w2: t[2], w3: t[3])
            })
        case "rope":
            // Queries as attention gets them: (batch, T, heads, d_k), each token's heads at its position.
            let dHead = dModel / heads
            let rope = RoPE(theta: 10_000, dK: dHead, maxSequenceLength: context)
            return ([input([batch, context, heads, dHead])], { t in
                rope.apply(t[0], positions: Array(0..<context), layout: .sequenceFirst)
            })
        case "attention":
            let dHead = dModel / heads
            return ([input([batch, heads, context, dHead]), input([batch, heads, context, dHead]),
                     input([batch, heads, context, dHead])], { t in
                Tensor.scaledDotProductAttention(query: t[0], key: t[1], value: t[2], causal: true)
            })
        default:  // cross_entropy
            var targets = [Int](repeating: 0, count: rows)
            for i in 0..<rows { targets[i] = rng.nextInt(below: vocab) }
            return ([input([batch, context, vocab])], { t in Tensor.crossEntropy(t[0], targets: targets) })
        }
    }

    /// The median wall time of `repeats` runs after one warm-up, in milliseconds.
    func median(time body: () -> Void) -> Double {
        body()
        var samples: [Double] = []
        for _ in 0..<repeats {
            let start = now()
            body()
            samples.append(Double(now() - start) / 1e6)
        }
        samples.sort()
        return samples[samples.count / 2]
    }

    /// Nanoseconds on the chosen clock.
    func now() -> UInt64 {
        switch clock {
        case .wall:
            return DispatchTime.now().uptimeNanoseconds
        case .cpu:
            var ts = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
            return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
        }
    }
}
