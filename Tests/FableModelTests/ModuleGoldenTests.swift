import FableTensor
import Testing
@testable import FableModel

/// Each module against PyTorch (float64, rounded to float32): output, input gradient and
/// every parameter gradient for a fixed random upstream gradient.
@Suite("Modules vs PyTorch")
struct ModuleGoldenTests {
    /// Runs `forward` on the fixture's input, back-propagates its `grad_output` and checks
    /// the output, the input gradient and the gradient of every weight.
    private func check(
        _ name: String, hasInputGrad: Bool = true,
        forward: (GoldenFixture, ParameterStore, Tensor) throws -> Tensor
    ) throws {
        let fixture = try GoldenFixture(name)
        let store = try fixture.parameterStore()
        let input = try fixture.tensor("input", requiresGrad: true)
        let output = try forward(fixture, store, input)
        #expect(output.shape == fixture.ints("output_shape"), "\(name) output shape")
        expectClose(output.toArray(), try fixture.file.floats(named: "output"), "\(name) output")
        output.backward(seed: try fixture.tensor("grad_output"))
        if hasInputGrad {
            expectClose(input.grad?.toArray() ?? [], try fixture.file.floats(named: "grad.input"), "\(name) input gradient")
        }
        for entry in store.entries {
            expectClose(
                Array(store.gradients(of: entry)), try fixture.file.floats(named: "grad." + entry.name),
                "\(name) gradient of \(entry.name)")
        }
    }

    private func param(_ store: ParameterStore, _ name: String) -> Tensor {
        Tensor.parameter(store, named: name)!
    }

    private func attention(_ f: GoldenFixture, _ s: ParameterStore, prefix: String = "") -> CausalSelfAttention {
        let dK = f.int("d_model") / f.int("num_heads")
        let rope = (f.meta["rope"] as? Bool ?? false)
            ? RotaryPositionalEmbedding(theta: f.double("theta"), dK: dK, maxSeqLen: f.int("max_seq_len")) : nil
        return CausalSelfAttention(
            qProj: Linear(weight: param(s, prefix + "q_proj.weight")),
            kProj: Linear(weight: param(s, prefix + "k_proj.weight")),
            vProj: Linear(weight: param(s, prefix + "v_proj.weight")),
            outputProj: Linear(weight: param(s, prefix + "output_proj.weight")),
            numHeads: f.int("num_heads"), rope: rope)
    }

    @Test("Linear over (2, 3, 5, 12) inputs")
    func linear() throws {
        try check("linear") { _, s, x in Linear(weight: param(s, "weight"))(x) }
    }

    @Test("Embedding of (2, 7) ids")
    func embedding() throws {
        let f = try GoldenFixture("embedding")
        let store = try f.parameterStore()
        let out = Embedding(weight: param(store, "weight"))(f.ints("token_ids"), shape: f.ints("input_shape"))
        #expect(out.shape == f.ints("output_shape"))
        expectClose(out.toArray(), try f.file.floats(named: "output"), "embedding output")
        out.backward(seed: try f.tensor("grad_output"))
        expectClose(Array(store.gradients), try f.file.floats(named: "grad.weight"), "embedding gradient")
    }

    @Test("RMSNorm with a non-trivial gain")
    func rmsNorm() throws {
        try check("rmsnorm") { f, s, x in RMSNorm(weight: param(s, "weight"), eps: Float(f.double("eps")))(x) }
    }

    @Test("SwiGLU feed-forward")
    func swiGLU() throws {
        try check("swiglu") { _, s, x in
            FeedForward(w1: Linear(weight: param(s, "w1.weight")), w2: Linear(weight: param(s, "w2.weight")),
                        w3: Linear(weight: param(s, "w3.weight")))(x)
        }
    }

    @Test("SiLU feed-forward (the gating ablation)")
    func siluFeedForward() throws {
        try check("silu_ffn") { _, s, x in
            FeedForward(w1: Linear(weight: param(s, "w1.weight")), w2: Linear(weight: param(s, "w2.weight")), w3: nil)(x)
        }
    }

    @Test("RoPE on (2, 3, 6, 8) at explicit positions")
    func rope() throws {
        try check("rope") { f, _, x in
            RotaryPositionalEmbedding(theta: f.double("theta"), dK: f.int("d_k"), maxSeqLen: f.int("max_seq_len"))(
                x, positions: f.ints("token_positions"))
        }
    }

    @Test("causal multi-head self-attention with RoPE", arguments: ["attention", "attention_positions"])
    func attentionRoPE(name: String) throws {
        try check(name) { f, s, x in
            attention(f, s)(x, positions: f.meta["token_positions"] == nil ? nil : f.ints("token_positions"))
        }
    }

    @Test("causal multi-head self-attention without position information")
    func attentionNoPE() throws {
        try check("attention_nope") { f, s, x in attention(f, s)(x) }
    }

    @Test("Transformer block", arguments: ["block_pre", "block_post", "block_none"])
    func block(name: String) throws {
        try check(name) { f, s, x in
            let norm = ModelConfig.Norm(rawValue: f.meta["norm"] as! String)!
            let block = TransformerBlock(
                attn: attention(f, s, prefix: "attn."),
                ffn: FeedForward(w1: Linear(weight: param(s, "ffn.w1.weight")), w2: Linear(weight: param(s, "ffn.w2.weight")),
                                 w3: Linear(weight: param(s, "ffn.w3.weight"))),
                ln1: norm == .none ? nil : RMSNorm(weight: param(s, "ln1.weight")),
                ln2: norm == .none ? nil : RMSNorm(weight: param(s, "ln2.weight")),
                norm: norm)
            return block(x)
        }
    }
}
