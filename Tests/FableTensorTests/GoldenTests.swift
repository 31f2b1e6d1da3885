import FableTestSupport
import Foundation
import Testing
@testable import FableTensor

/// Forward and backward of every op against PyTorch (float64) golden values written by
/// Scripts/reference/tensor_ops.py.
@Suite("PyTorch golden values")
struct GoldenTests {
    struct Array32: Decodable { let shape: [Int]; let data: [Double] }
    struct Extras: Decodable {
        let indices: [Int]?
        let indices_shape: [Int]?
        let mask: [Int]?
        let mask_shape: [Int]?
        let positions: [Int]?
        let theta: Double?
        let targets: [Int]?
    }
    struct Case: Decodable {
        let name: String
        let inputs: [String: Array32]
        let extras: Extras
        let output: Array32
        let seed: Array32
        let grads: [String: Array32]
    }
    struct Group: Decodable { let group: String; let cases: [Case] }

    typealias Op = @Sendable ([String: Tensor], Extras) -> Tensor

    static let ops: [String: Op] = [
        // elementwise
        "add_broadcast": { t, _ in t["a"]! + t["b"]! },
        "sub_broadcast": { t, _ in t["a"]! - t["c"]! },
        "mul_broadcast": { t, _ in t["b"]! * t["c"]! },
        "div_broadcast": { t, _ in t["a"]! / t["c"]! },
        "scalar_ops": { t, _ in let x = t["x"]!; return (x * 3 + 1) - 2 / (x * x + 1) },
        "exp": { t, _ in t["x"]!.exp() },
        "log": { t, _ in t["p"]!.log() },
        "sqrt": { t, _ in t["p"]!.sqrt() },
        "rsqrt": { t, _ in t["p"]!.rsqrt() },
        "square": { t, _ in t["x"]!.square() },
        "sigmoid": { t, _ in t["x"]!.sigmoid() },
        "silu": { t, _ in t["x"]!.silu() },
        "relu": { t, _ in t["x"]!.relu() },
        "pow": { t, _ in t["p"]!.pow(1.5) },
        // reductions
        "sum_axis1_keep": { t, _ in t["x"]!.sum(axis: 1, keepDims: true) },
        "sum_axis_last": { t, _ in t["x"]!.sum(axis: -1) },
        "mean_axis0": { t, _ in t["x"]!.mean(axis: 0) },
        "max_axis1": { t, _ in t["x"]!.max(axis: 1) },
        "sum_all": { t, _ in t["x"]!.sum() },
        "mean_all": { t, _ in t["x"]!.mean() },
        "softmax_last": { t, _ in t["x"]!.softmax(axis: -1) },
        "softmax_axis1": { t, _ in t["x"]!.softmax(axis: 1) },
        "log_softmax_last": { t, _ in t["x"]!.logSoftmax(axis: -1) },
        "log_softmax_axis0": { t, _ in t["x"]!.logSoftmax(axis: 0) },
        // matmul and shape
        "matmul_batched_matrix": { t, _ in Tensor.matmul(t["a"]!, t["b"]!) },
        "matmul_batched": { t, _ in Tensor.matmul(t["a"]!, t["c"]!) },
        "matmul_transpose_a": { t, _ in Tensor.matmul(t["c"]!, t["b"]!, transposeA: true) },
        "matmul_transpose_both": { t, _ in Tensor.matmul(t["a"]!, t["c"]!, transposeA: true, transposeB: true) },
        "linear": { t, _ in Tensor.linear(t["a"]!, t["w"]!) },
        "permute": { t, _ in t["x"]!.permuted([2, 0, 1]) },
        "transpose_reshape": { t, _ in t["x"]!.transposed(0, 1).reshaped([3, 8]) },
        "slice_axis1": { t, _ in t["x"]!.slice(axis: 1, 1..<3) },
        "concat_axis1": { t, _ in Tensor.concatenate([t["x"]!, t["y"]!], axis: 1) },
        "embedding": { t, e in Tensor.embedding(t["table"]!, indices: e.indices!, shape: e.indices_shape!) },
        "masked_fill": { t, e in t["x"]!.maskedFill(e.mask!.map { $0 != 0 }, maskShape: e.mask_shape!, value: -5) },
        // fused
        "rmsnorm": { t, _ in Tensor.rmsNorm(t["x"]!, gain: t["g"]!, eps: 1e-5) },
        "swiglu_gate": { t, _ in Tensor.swiGLU(t["a"]!, t["b"]!) },
        "swiglu_ffn": { t, _ in Tensor.swiGLU(t["x"]!, w1: t["w1"]!, w2: t["w2"]!, w3: t["w3"]!) },
        "rope": { t, e in
            RoPE(theta: Float(e.theta!), dK: 8, maxSequenceLength: 16).apply(t["x"]!, positions: e.positions!)
        },
        "attention_causal": { t, _ in Tensor.scaledDotProductAttention(query: t["q"]!, key: t["k"]!, value: t["v"]!) },
        "attention_full": { t, _ in
            Tensor.scaledDotProductAttention(query: t["q"]!, key: t["k"]!, value: t["v"]!, causal: false)
        },
        "attention_causal_masked": { t, e in
            Tensor.scaledDotProductAttention(query: t["q"]!, key: t["k"]!, value: t["v"]!, mask: e.mask!.map { $0 != 0 })
        },
        "attention_causal_short_query": { t, _ in
            Tensor.scaledDotProductAttention(query: t["q"]!, key: t["k"]!, value: t["v"]!)
        },
        "cross_entropy": { t, e in Tensor.crossEntropy(t["logits"]!, targets: e.targets!) },
    ]

    static func tensor(_ a: Array32, requiresGrad: Bool = false) -> Tensor {
        Tensor(shape: a.shape, data: a.data.map { Float($0) }, requiresGrad: requiresGrad)
    }

    /// |got - want| <= 1e-5 |want| + 1e-6: relative 1e-5, with a floor for values near zero.
    static func expectClose(_ got: Tensor, _ want: Array32, _ what: String) {
        #expect(got.shape == want.shape, "\(what): shape \(got.shape) vs \(want.shape)")
        guard got.shape == want.shape else { return }
        var worst = 0.0, worstIndex = 0
        for (i, w) in want.data.enumerated() {
            let excess = abs(Double(got.data[i]) - w) - (1e-5 * abs(w) + 1e-6)
            if excess > worst { worst = excess; worstIndex = i }
        }
        #expect(worst == 0, "\(what)[\(worstIndex)] = \(got.data[worstIndex]), want \(want.data[worstIndex])")
    }

    @Test("forward and backward match PyTorch", arguments: ["elementwise", "reductions", "matmul_shape", "fused"])
    func group(_ name: String) throws {
        let group = try TestData.jsonFixture("tensor/\(name).json", as: Group.self)
        #expect(!group.cases.isEmpty)
        for c in group.cases {
            let op = try #require(Self.ops[c.name], "no Swift op registered for fixture case \(c.name)")
            let inputs = c.inputs.mapValues { Self.tensor($0, requiresGrad: true) }
            let out = op(inputs, c.extras)
            Self.expectClose(out, c.output, "\(c.name) output")
            out.backward(seed: Self.tensor(c.seed))
            for (input, want) in c.grads {
                let grad = try #require(inputs[input]?.grad, "\(c.name): no gradient for \(input)")
                Self.expectClose(grad, want, "\(c.name) grad \(input)")
            }
        }
    }
}
