// GGUF version 3 (ggml's docs/gguf.md): the single-file model format of llama.cpp.
//
//   header    "GGUF" (bytes 47 47 55 46), version u32 = 3, tensor_count u64, metadata_kv_count u64
//   metadata  metadata_kv_count × (key: string, value_type: u32, value)
//   tensors   tensor_count × (name: string, n_dims: u32, ne: u64[n_dims], ggml_type: u32, offset: u64)
//   padding   zeros up to a multiple of general.alignment (default 32)
//   data      each tensor at its offset (relative to the data section, a multiple of the
//             alignment), zero padding between tensors
//
// Everything is little-endian. A string is a u64 byte length and UTF-8 bytes (no NUL).
// An array is element_type u32, count u64, then the elements. `ne` lists dimensions
// fastest-varying first, so a PyTorch (rows, columns) matrix is ne = [columns, rows].

/// Constants and value types of the GGUF format.
public enum GGUF {
    /// "GGUF" read as a little-endian u32.
    public static let magic: UInt32 = 0x4655_4747
    /// The version this module writes and reads.
    public static let version: UInt32 = 3
    /// The data alignment when `general.alignment` is absent.
    public static let defaultAlignment = 32
    /// The metadata key that sets the alignment.
    public static let alignmentKey = "general.alignment"

    /// `gguf_metadata_value_type`.
    public enum ValueType: UInt32, Sendable {
        case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6
        case bool = 7, string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12
    }

    /// The `ggml_type`s Fable writes (others are read back as ``unsupported``).
    public enum TensorType: Equatable, Sendable {
        case f32, f16, bf16
        case unsupported(UInt32)

        public init(rawValue: UInt32) {
            switch rawValue {
            case 0: self = .f32
            case 1: self = .f16
            case 30: self = .bf16
            default: self = .unsupported(rawValue)
            }
        }

        public var rawValue: UInt32 {
            switch self {
            case .f32: return 0
            case .f16: return 1
            case .bf16: return 30
            case .unsupported(let raw): return raw
            }
        }

        /// Bytes per element, nil for block-quantised or unknown types.
        public var elementSize: Int? {
            switch self {
            case .f32: return 4
            case .f16, .bf16: return 2
            case .unsupported: return nil
            }
        }
    }

    /// A metadata value.
    public indirect enum Value: Equatable, Sendable {
        case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16)
        case uint32(UInt32), int32(Int32), float32(Float), bool(Bool)
        case string(String)
        /// Elements all of `type` (a nested array's elements are `.array` values).
        case array(ValueType, [Value])
        case uint64(UInt64), int64(Int64), float64(Double)

        public var type: ValueType {
            switch self {
            case .uint8: return .uint8
            case .int8: return .int8
            case .uint16: return .uint16
            case .int16: return .int16
            case .uint32: return .uint32
            case .int32: return .int32
            case .float32: return .float32
            case .bool: return .bool
            case .string: return .string
            case .array: return .array
            case .uint64: return .uint64
            case .int64: return .int64
            case .float64: return .float64
            }
        }

        /// An array of strings.
        public static func strings(_ items: [String]) -> Value { .array(.string, items.map { .string($0) }) }

        /// The value as an integer when it is one of the integer types.
        public var integer: Int? {
            switch self {
            case .uint8(let v): return Int(v)
            case .int8(let v): return Int(v)
            case .uint16(let v): return Int(v)
            case .int16(let v): return Int(v)
            case .uint32(let v): return Int(v)
            case .int32(let v): return Int(v)
            case .uint64(let v): return Int(exactly: v)
            case .int64(let v): return Int(v)
            default: return nil
            }
        }
    }

    /// Pads `offset` up to a multiple of `alignment`.
    public static func align(_ offset: Int, to alignment: Int) -> Int {
        (offset + alignment - 1) / alignment * alignment
    }
}

// MARK: - Encoding

/// Little-endian encoding of GGUF's primitives.
struct GGUFEncoder {
    var bytes: [UInt8] = []

    mutating func integer<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func string(_ text: String) {
        integer(UInt64(text.utf8.count))
        bytes.append(contentsOf: text.utf8)
    }

    mutating func value(_ value: GGUF.Value) {
        switch value {
        case .uint8(let v): integer(v)
        case .int8(let v): integer(v)
        case .uint16(let v): integer(v)
        case .int16(let v): integer(v)
        case .uint32(let v): integer(v)
        case .int32(let v): integer(v)
        case .float32(let v): integer(v.bitPattern)
        case .bool(let v): integer(UInt8(v ? 1 : 0))
        case .string(let v): string(v)
        case .array(let type, let items):
            integer(type.rawValue)
            integer(UInt64(items.count))
            for item in items { self.value(item) }
        case .uint64(let v): integer(v)
        case .int64(let v): integer(v)
        case .float64(let v): integer(v.bitPattern)
        }
    }
}
