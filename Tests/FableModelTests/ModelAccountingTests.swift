import Testing
@testable import FableModel

/// Figures checked against the hand-derived CS336 formulas, with the numbers written out.
@Suite("ModelAccounting")
struct ModelAccountingTests {
    @Test("GPT-2 XL parameters: 2·V·d + L·(4d² + 3·d·d_ff + 2d) + d")
    func gpt2XLParameters() throws {
        let a = ModelAccounting(config: try ModelConfig.preset(named: "gpt2-xl"))
        let p = a.parameters
        #expect(p.tokenEmbeddings == 50_257 * 1600)
        #expect(p.attention == 48 * 4 * 1600 * 1600)
        #expect(p.feedForward == 48 * 3 * 1600 * 6400)
        #expect(p.norms == 48 * 2 * 1600 + 1600)
        #expect(p.lmHead == 50_257 * 1600)
        #expect(p.total == 2_127_057_600)
        #expect(a.weightBytes == 8_508_230_400)  // ≈ 8.5 GB in float32
    }

    @Test("GPT-2 XL forward FLOPs at T = 1024: 4.513 TFLOPs, split by matmul")
    func gpt2XLForward() throws {
        let a = ModelAccounting(config: try ModelConfig.preset(named: "gpt2-xl"))
        let flops = a.forwardMatmuls.map(\.flops)
        let expected: [Double] = [1_006_632_960_000, 161_061_273_600, 161_061_273_600, 3_019_898_880_000, 164_682_137_600]
        #expect(flops == expected)
        #expect(a.forwardFLOPs() == 4_513_336_524_800)
        #expect(a.forwardFLOPs(batchSize: 3) == 3 * 4_513_336_524_800)
        // Step: 3 × forward + 14 FLOPs per parameter for AdamW.
        #expect(a.trainingStepFLOPs(batchSize: 2) == 6 * 4_513_336_524_800 + 14 * 2_127_057_600)
    }

    @Test("GPT-2 XL, 400K steps of batch 1024 on one A100 (19.5 TFLOP/s float32) at 50% MFU: about 6,584 days")
    func gpt2XLTrainingTime() throws {
        let a = ModelAccounting(config: try ModelConfig.preset(named: "gpt2-xl"))
        let seconds = a.trainingSeconds(steps: 400_000, batchSize: 1024, peakFLOPS: 19.5e12, utilization: 0.5)
        // Written out: 400,000 × (3 × 1024 × 4,513,336,524,800 + 14 × 2,127,057,600) / 9.75e12.
        let stepFLOPs = 3.0 * 1024 * 4_513_336_524_800 + 14 * 2_127_057_600
        #expect(abs(seconds - 400_000 * stepFLOPs / 9.75e12) <= 1e-6 * seconds)
        #expect((seconds / 86_400).rounded() == 6_584)
    }

    @Test("a longer context grows the attention share quadratically")
    func longContext() throws {
        let xl = try ModelConfig.preset(named: "gpt2-xl")
        let short = ModelAccounting(config: xl)
        let long = ModelAccounting(config: xl, sequenceLength: 16_384)
        #expect(long.forwardMatmuls[1].flops == 256 * short.forwardMatmuls[1].flops)
        #expect(long.forwardMatmuls[0].flops == 16 * short.forwardMatmuls[0].flops)
        #expect(long.forwardMatmuls[1].flops / long.forwardFLOPs() > short.forwardMatmuls[1].flops / short.forwardFLOPs())
    }

    @Test("adamwAccounting for GPT-2 XL with the handout's SiLU FFN (d_ff = 4d)")
    func gpt2XLTrainingMemory() throws {
        var config = try ModelConfig.preset(named: "gpt2-xl")
        config.ffn = .silu
        let a = ModelAccounting(config: config)
        // Per sequence: L·(8Td + 2T·d_ff + 2hT²) + Td + 2TV elements.
        let elements = 48 * (8 * 1024 * 1600 + 2 * 1024 * 6400 + 2 * 25 * 1024 * 1024) + 1024 * 1600 + 2 * 1024 * 50_257
        #expect(elements == 3_879_438_336)
        #expect(a.trainingBytesPerSequence == Double(4 * elements))
        let p = 2 * 50_257 * 1600 + 48 * (4 * 1600 * 1600 + 2 * 1600 * 6400 + 2 * 1600) + 1600
        #expect(a.parameters.total == p && p == 1_635_537_600)
        // Parameters, gradients and two AdamW moments: 16 bytes per parameter.
        #expect(a.trainingFixedBytes == Double(16 * p))
        let m = a.trainingMemory(batchSize: 3)
        #expect(m.total == Double(16 * p + 3 * 4 * elements))
        #expect(a.maxBatchSize(memoryBytes: 80e9) == 3)
        #expect(a.maxBatchSize(memoryBytes: Double(16 * p)) == 0)
        #expect(a.maxBatchSize(memoryBytes: 1e9) == 0)
    }

    @Test("SwiGLU keeps four d_ff-wide activations; ablations drop the norms they remove")
    func variants() throws {
        let base = ModelConfig(vocabSize: 100, contextLength: 10, dModel: 8, numLayers: 2, numHeads: 2, dFF: 12)
        let swiglu = ModelAccounting(config: base)
        let ffn = swiglu.activationsPerSequence.first { $0.name.hasPrefix("feed-forward") }!
        #expect(ffn.elements == 2 * (4 * 10 * 12 + 10 * 8))
        var none = base
        none.norm = .none
        #expect(ModelAccounting(config: none).parameters.norms == 0)
        var post = base
        post.norm = .post
        #expect(ModelAccounting(config: post).parameters.norms == 2 * 2 * 8)
        var tied = base
        tied.tieEmbeddings = true
        let t = ModelAccounting(config: tied).parameters
        #expect(t.lmHead == 0 && t.total == swiglu.parameters.total - 100 * 8)
        let silu = ModelAccounting(config: base.withSiLUFeedForward()).parameters
        #expect(silu.feedForward == swiglu.parameters.feedForward)
    }

    @Test("tinystories-17m: about 17M non-embedding parameters")
    func tinyStories() throws {
        let a = ModelAccounting(config: try ModelConfig.preset(named: "tinystories-17m"))
        #expect(a.parameters.nonEmbedding == 4 * (4 * 512 * 512 + 3 * 512 * 1344 + 2 * 512) + 512 + 10_000 * 512)
        #expect(a.parameters.nonEmbedding == 17_576_448)
    }
}
