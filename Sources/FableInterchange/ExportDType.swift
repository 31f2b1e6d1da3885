import FableTensor

/// The element type of exported weights: Float32 (exact), or Float16 / BFloat16 rounded to
/// nearest even by FableTensor's ``HalfPrecision``.
public enum ExportDType: String, CaseIterable, Sendable {
    case f32, f16, bf16

    /// The safetensors dtype.
    public var safeTensors: SafeTensors.DType {
        switch self {
        case .f32: return .f32
        case .f16: return .f16
        case .bf16: return .bf16
        }
    }

    /// The `ggml_type` of a tensor stored in this type (ggml's enum: F32 0, F16 1, BF16 30).
    public var ggmlType: GGUF.TensorType {
        switch self {
        case .f32: return .f32
        case .f16: return .f16
        case .bf16: return .bf16
        }
    }

    /// `general.file_type` (llama.cpp's `llama_ftype`: ALL_F32 0, MOSTLY_F16 1, MOSTLY_BF16 32).
    public var ggufFileType: UInt32 {
        switch self {
        case .f32: return 0
        case .f16: return 1
        case .bf16: return 32
        }
    }

    /// The name `torch_dtype` / `dtype` takes in an HF config.json.
    public var torchName: String {
        switch self {
        case .f32: return "float32"
        case .f16: return "float16"
        case .bf16: return "bfloat16"
        }
    }

    /// `values` as little-endian bytes of this type.
    public func bytes(of values: UnsafeBufferPointer<Float>) -> [UInt8] {
        switch self {
        case .f32:
            return Array(UnsafeRawBufferPointer(values))
        case .f16, .bf16:
            var out = [UInt8](repeating: 0, count: values.count * 2)
            for (i, value) in values.enumerated() {
                let bits = self == .f16 ? HalfPrecision.float16Bits(from: value) : HalfPrecision.bfloat16Bits(from: value)
                out[2 * i] = UInt8(truncatingIfNeeded: bits)
                out[2 * i + 1] = UInt8(truncatingIfNeeded: bits >> 8)
            }
            return out
        }
    }
}
