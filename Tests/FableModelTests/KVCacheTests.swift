import FableTensor
import Testing
@testable import FableModel

/// The cached inference pass against the model's own full forward pass (the autograd path,
/// itself checked against PyTorch in TransformerLMGoldenTests): at every step the logits
/// with a cache must equal a recomputation over the whole prefix.
@Suite("KV cache")
struct KVCacheTests {
    /// Small shapes with every ablation: RoPE and NoPE, the three norm placements, SiLU, tied.
    static let configs: [(name: String, config: ModelConfig)] = {
        func make(
            norm: ModelConfig.Norm = .pre, position: ModelConfig.Position = .rope,
            ffn: ModelConfig.FeedForward = .swiglu, tied: Bool = false
        ) -> ModelConfig {
            ModelConfig(vocabSize: 61, contextLength: 24, dModel: 32, numLayers: 2, numHeads: 4, dFF: 72,
                        ropeTheta: 10_000, norm: norm, position: position, ffn: ffn, tieEmbeddings: tied)
        }
        return [
            ("rope", make()), ("nope", make(position: .none)), ("post-norm", make(norm: .post)),
            ("no-norm", make(norm: .none)), ("silu", make(ffn: .silu)), ("tied", make(tied: true)),
        ]
    }()

    /// The last position's logits of every row, recomputed over the whole prefix.
    static func fullLogits(_ model: TransformerLM, _ sequences: [[Int]]) throws -> [Float] {
        let t = sequences[0].count, vocab = model.config.vocabSize
        let all = try withNoGrad { try model.forward(tokens: sequences.flatMap { $0 }, shape: [sequences.count, t]) }.toArray()
        var last: [Float] = []
        for b in 0..<sequences.count {
            let end = (b + 1) * t * vocab
            last += all[(end - vocab)..<end]
        }
        return last
    }

    static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count)
        return zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    /// Prefill `prompt` tokens per row, then `steps` single tokens, comparing every step.
    func checkSteps(config: ModelConfig, batch: Int, prompt: Int, steps: Int, seed: UInt64) throws {
        let model = try TransformerLM(config: config, seed: seed)
        var rng = RandomGenerator(seed: seed &+ 100)
        var sequences = (0..<batch).map { _ in (0..<prompt).map { _ in rng.nextInt(below: config.vocabSize) } }
        let cache = KVCache(config: config, batch: batch)
        // Prefill, checking every prompt position too.
        let prefill = try model.forward(appending: sequences.flatMap { $0 }, batch: batch, cache: cache, allPositions: true)
        let full = try withNoGrad { try model.forward(tokens: sequences.flatMap { $0 }, shape: [batch, prompt]) }.toArray()
        #expect(Self.maxDifference(prefill, full) <= 1e-5, "prefill logits")
        #expect(cache.length == prompt)
        for step in 0..<steps {
            let next = (0..<batch).map { _ in rng.nextInt(below: config.vocabSize) }
            for b in 0..<batch { sequences[b].append(next[b]) }
            let cached = try model.forward(appending: next, batch: batch, cache: cache)
            let expected = try Self.fullLogits(model, sequences)
            let difference = Self.maxDifference(cached, expected)
            #expect(difference <= 1e-5, "step \(step): logits differ by \(difference)")
        }
        #expect(cache.length == prompt + steps)
    }

    @Test("logits with the cache equal a full recomputation at every step", arguments: configs.map(\.name))
    func cachedEqualsFull(name: String) throws {
        let config = Self.configs.first { $0.name == name }!.config
        try checkSteps(config: config, batch: 3, prompt: 5, steps: 8, seed: 11)
        try checkSteps(config: config, batch: 1, prompt: 3, steps: 6, seed: 12)
    }

    @Test("the cache fills to the context length, and no further")
    func fillsContext() throws {
        let config = Self.configs[0].config
        try checkSteps(config: config, batch: 2, prompt: 20, steps: 4, seed: 13)
        let model = try TransformerLM(config: config, seed: 13)
        let cache = KVCache(config: config, batch: 1)
        _ = try model.forward(appending: Array(repeating: 1, count: 24), batch: 1, cache: cache)
        #expect(cache.remaining == 0)
        #expect(throws: ModelError.sequenceTooLong(length: 25, contextLength: 24)) {
            try model.forward(appending: [1], batch: 1, cache: cache)
        }
    }

    @Test("the matrix-vector kernel and GEMM give the same projections")
    func matrixVectorPath() throws {
        let config = Self.configs[0].config
        for limit in [0, 4, 32] {
            try TransformerLM.withMatrixVectorRowLimit(limit) {
                try checkSteps(config: config, batch: 3, prompt: 2, steps: 3, seed: 14)
            }
        }
    }

    @Test("every projection kernel (streaming, four-row, GEMM) matches a Double dot product",
          arguments: [(1, 37, 9), (3, 45, 7), (4, 64, 13), (6, 70, 5), (9, 33, 11)])
    func projectionKernels(m: Int, k: Int, n: Int) {
        var rng = RandomGenerator(seed: UInt64(m * 1000 + k))
        let x = (0..<(m * k)).map { _ in rng.nextUnitFloat() - 0.5 }
        let w = (0..<(n * k)).map { _ in rng.nextUnitFloat() - 0.5 }
        let ldy = n + 3
        for limit in [0, m, 32] {
            var y = [Float](repeating: .nan, count: m * ldy)
            TransformerLM.withMatrixVectorRowLimit(limit) {
                InferenceKernels.project(x, rows: m, inFeatures: k, weight: w, outFeatures: n, into: &y, ldy: ldy)
            }
            for i in 0..<m {
                for j in 0..<n {
                    let expected = (0..<k).reduce(0.0) { $0 + Double(x[i * k + $1]) * Double(w[j * k + $1]) }
                    let error = abs(Double(y[i * ldy + j]) - expected)
                    #expect(error <= 1e-5 * Double(k), "row \(i), column \(j), limit \(limit)")
                }
                let paddingUntouched = y[(i * ldy + n)..<(i * ldy + ldy)].allSatisfy { $0.isNaN }
                #expect(paddingUntouched, "padding of row \(i) untouched")
            }
        }
    }

    @Test("dropping and replicating rows keeps each row's keys and values")
    func rowsMove() throws {
        let config = Self.configs[0].config
        let model = try TransformerLM(config: config, seed: 15)
        let rows = [[3, 9, 27, 4], [5, 25, 8, 1], [7, 49, 2, 60]]
        let cache = KVCache(config: config, batch: 3)
        _ = try model.forward(appending: rows.flatMap { $0 }, batch: 3, cache: cache)
        cache.keepRows([0, 2])
        let next = try model.forward(appending: [11, 12], batch: 2, cache: cache)
        let expected = try Self.fullLogits(model, [rows[0] + [11], rows[2] + [12]])
        #expect(Self.maxDifference(next, expected) <= 1e-5)

        let shared = KVCache(config: config, batch: 3)
        shared.reset(batch: 1)
        _ = try model.forward(appending: rows[1], batch: 1, cache: shared)
        shared.replicateFirstRow(count: 3)
        let fanned = try model.forward(appending: [6, 7, 8], batch: 3, cache: shared)
        let fannedExpected = try Self.fullLogits(model, [rows[1] + [6], rows[1] + [7], rows[1] + [8]])
        #expect(Self.maxDifference(fanned, fannedExpected) <= 1e-5)
    }

    @Test("bad input is a typed error, not a trap")
    func badInput() throws {
        let config = Self.configs[0].config
        let model = try TransformerLM(config: config, seed: 16)
        let cache = KVCache(config: config, batch: 2)
        #expect(throws: ModelError.tokenOutOfRange(index: 1, token: 61, vocabSize: 61)) {
            try model.forward(appending: [0, 61], batch: 2, cache: cache)
        }
        #expect(throws: ModelError.self) { try model.forward(appending: [0, 1, 2], batch: 2, cache: cache) }
        #expect(throws: ModelError.self) { try model.forward(appending: [0], batch: 1, cache: cache) }
        let other = KVCache(config: Self.configs[1].config.with(numLayers: 3), batch: 2)
        #expect(throws: ModelError.self) { try model.forward(appending: [0, 1], batch: 2, cache: other) }
        #expect(cache.length == 0)
    }
}

extension ModelConfig {
    func with(numLayers: Int) -> ModelConfig {
        var copy = self
        copy.numLayers = numLayers
        return copy
    }
}
