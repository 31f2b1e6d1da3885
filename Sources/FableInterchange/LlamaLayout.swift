import FableModel

/// How a Fable model maps onto the Llama architecture that Hugging Face transformers
/// (`LlamaForCausalLM`) and llama.cpp (`llama`) run: the settings that must hold and the
/// name of every tensor in each ecosystem.
///
/// Fable's CS336 model is Llama-shaped (pre-norm RMSNorm with eps 1e-5, RoPE, SwiGLU, no
/// biases), so the mapping is exact: only names and, for HF, the order of the query/key
/// rows change (see ``RotaryLayout``).
public struct LlamaLayout: Sendable {
    /// The RMSNorm epsilon every Fable model uses (CS336), written as `rms_norm_eps` and
    /// `llama.attention.layer_norm_rms_epsilon`.
    public static let rmsNormEpsilon = 1e-5

    /// One parameter and its names.
    public struct Tensor: Sendable, Equatable {
        /// The CS336 state-dict name Fable uses.
        public var fable: String
        /// The Hugging Face `LlamaForCausalLM` state-dict name.
        public var huggingFace: String
        /// The llama.cpp (GGUF) tensor name.
        public var gguf: String
        /// PyTorch shape (rows, columns) or (width) for norms.
        public var shape: [Int]
        /// True for query/key projections, whose rows HF orders differently.
        public var rotary: Bool
    }

    public let config: ModelConfig
    /// Every parameter of the model, in Fable's state-dict order.
    public let tensors: [Tensor]

    /// The layout of `config`.
    /// - Throws: ``InterchangeError/unsupportedSetting(setting:value:format:reason:)`` for a
    ///   configuration the Llama architecture cannot express, naming the setting.
    public init(config: ModelConfig, format: String) throws(InterchangeError) {
        try Self.checkSupported(config, format: format)
        self.config = config
        let d = config.dModel
        var tensors = [Tensor(fable: "token_embeddings.weight", huggingFace: "model.embed_tokens.weight",
                              gguf: "token_embd.weight", shape: [config.vocabSize, d], rotary: false)]
        for i in 0..<config.numLayers {
            func add(_ fable: String, _ hf: String, _ gguf: String, _ shape: [Int], rotary: Bool = false) {
                tensors.append(Tensor(fable: "layers.\(i).\(fable)", huggingFace: "model.layers.\(i).\(hf)",
                                      gguf: "blk.\(i).\(gguf)", shape: shape, rotary: rotary))
            }
            add("attn.q_proj.weight", "self_attn.q_proj.weight", "attn_q.weight", [d, d], rotary: true)
            add("attn.k_proj.weight", "self_attn.k_proj.weight", "attn_k.weight", [d, d], rotary: true)
            add("attn.v_proj.weight", "self_attn.v_proj.weight", "attn_v.weight", [d, d])
            add("attn.output_proj.weight", "self_attn.o_proj.weight", "attn_output.weight", [d, d])
            add("ln1.weight", "input_layernorm.weight", "attn_norm.weight", [d])
            add("ffn.w1.weight", "mlp.gate_proj.weight", "ffn_gate.weight", [config.dFF, d])
            add("ffn.w2.weight", "mlp.down_proj.weight", "ffn_down.weight", [d, config.dFF])
            add("ffn.w3.weight", "mlp.up_proj.weight", "ffn_up.weight", [config.dFF, d])
            add("ln2.weight", "post_attention_layernorm.weight", "ffn_norm.weight", [d])
        }
        tensors.append(Tensor(fable: "ln_final.weight", huggingFace: "model.norm.weight",
                              gguf: "output_norm.weight", shape: [d], rotary: false))
        if !config.tieEmbeddings {
            tensors.append(Tensor(fable: "lm_head.weight", huggingFace: "lm_head.weight",
                                  gguf: "output.weight", shape: [config.vocabSize, d], rotary: false))
        }
        self.tensors = tensors
    }

    /// Rejects the CS336 ablations that have no Llama equivalent.
    public static func checkSupported(_ config: ModelConfig, format: String) throws(InterchangeError) {
        switch config.norm {
        case .pre: break
        case .post:
            throw .unsupportedSetting(setting: "norm", value: "post", format: format,
                                      reason: "Llama normalises before each sublayer (pre-norm) and before the LM head")
        case .none:
            throw .unsupportedSetting(setting: "norm", value: "none", format: format,
                                      reason: "Llama has RMSNorm before each sublayer and before the LM head")
        }
        if config.position == .none {
            throw .unsupportedSetting(setting: "position", value: "none", format: format,
                                      reason: "Llama always applies rotary position embeddings (NoPE is not expressible)")
        }
        if config.ffn == .silu {
            throw .unsupportedSetting(setting: "ffn", value: "silu", format: format,
                                      reason: "Llama's feed-forward is SwiGLU (gate, up and down projections)")
        }
    }
}
