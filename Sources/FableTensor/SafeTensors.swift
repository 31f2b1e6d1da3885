/// The safetensors weight format (Hugging Face): an 8-byte little-endian header length N,
/// N bytes of JSON header, then the raw tensor data.
///
/// The header maps each tensor name to `{"dtype", "shape", "data_offsets": [begin, end]}`
/// (offsets relative to the start of the data) and may hold `"__metadata__"`, a map of
/// strings to strings. Read files with ``SafeTensorsFile`` and write them with
/// ``SafeTensorsWriter``; files written by Fable are byte-identical to those written by
/// Python's `safetensors.torch.save_file` for the same tensors and a metadata map with
/// at most one key (Python orders several metadata keys by hash, which is not reproducible).
/// Data is little-endian, as on every platform Fable runs on.
public enum SafeTensors {
    /// The key of the metadata map in the JSON header.
    public static let metadataKey = "__metadata__"

    /// The element types of the format, spelled as in the header.
    public enum DType: String, CaseIterable, Sendable, Codable {
        case bool = "BOOL"
        case u8 = "U8"
        case i8 = "I8"
        case f8e5m2 = "F8_E5M2"
        case f8e4m3 = "F8_E4M3"
        case i16 = "I16"
        case u16 = "U16"
        case f16 = "F16"
        case bf16 = "BF16"
        case i32 = "I32"
        case u32 = "U32"
        case f32 = "F32"
        case f64 = "F64"
        case i64 = "I64"
        case u64 = "U64"

        /// Bytes per element.
        public var byteSize: Int {
            switch self {
            case .bool, .u8, .i8, .f8e5m2, .f8e4m3: return 1
            case .i16, .u16, .f16, .bf16: return 2
            case .i32, .u32, .f32: return 4
            case .f64, .i64, .u64: return 8
            }
        }

        /// True for the types ``SafeTensorsFile/floats(named:)`` converts to Float32.
        public var convertsToFloat: Bool {
            switch self {
            case .f32, .f16, .bf16, .f64: return true
            default: return false
            }
        }

        /// The rank of the type in the reference library's `Dtype` enum. Its writer lays
        /// tensors out by descending rank (largest alignment first), then by name.
        var layoutRank: Int {
            switch self {
            case .bool: return 0
            case .u8: return 4
            case .i8: return 5
            case .f8e5m2: return 6
            case .f8e4m3: return 7
            case .i16: return 9
            case .u16: return 10
            case .f16: return 11
            case .bf16: return 12
            case .i32: return 13
            case .u32: return 14
            case .f32: return 15
            case .f64: return 17
            case .i64: return 18
            case .u64: return 19
            }
        }
    }

    /// One tensor as described by the header.
    public struct TensorInfo: Sendable, Equatable {
        public let name: String
        public let dtype: DType
        public let shape: [Int]
        /// Byte range inside the data section (after the header).
        public let dataOffsets: Range<Int>

        public init(name: String, dtype: DType, shape: [Int], dataOffsets: Range<Int>) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.dataOffsets = dataOffsets
        }

        /// Number of elements (1 for a scalar of shape `[]`).
        public var elementCount: Int { shape.reduce(1, *) }
        /// Number of data bytes.
        public var byteCount: Int { dataOffsets.count }
    }

    /// The number of bytes `shape` of `dtype` occupies, or nil on a negative dimension or overflow.
    static func byteCount(shape: [Int], dtype: DType) -> Int? {
        var total = dtype.byteSize
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = total.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            total = product
        }
        return total
    }
}

/// Why a safetensors file could not be read or written. Messages name the file and,
/// where one is involved, the tensor.
public enum SafeTensorsError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, reason: String)
    case truncatedHeader(path: String, fileSize: Int)
    case headerLengthOutOfRange(path: String, headerLength: UInt64, fileSize: Int)
    case invalidHeader(path: String, reason: String)
    case invalidTensorEntry(path: String, tensor: String, reason: String)
    case unknownDType(path: String, tensor: String, dtype: String)
    case byteCountMismatch(path: String, tensor: String, expected: Int, actual: Int)
    case offsetsOutOfOrder(path: String, tensor: String, expectedBegin: Int, actualBegin: Int)
    case dataSizeMismatch(path: String, expected: Int, actual: Int)
    case tensorNotFound(path: String, tensor: String)
    case notConvertible(path: String, tensor: String, dtype: String, to: String)
    case shapeMismatch(path: String, tensor: String, expected: [Int], actual: [Int])
    case invalidTensorName(name: String, reason: String)
    case invalidWriterInput(tensor: String, reason: String)
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            return "\(path): cannot open safetensors file: \(reason)"
        case let .truncatedHeader(path, size):
            return "\(path): not a safetensors file: \(size) bytes, expected at least 8 (the header length)"
        case let .headerLengthOutOfRange(path, length, size):
            return "\(path): header length \(length) at offset 0 does not fit in the \(size)-byte file (file truncated or not safetensors)"
        case let .invalidHeader(path, reason):
            return "\(path): invalid safetensors header: \(reason)"
        case let .invalidTensorEntry(path, tensor, reason):
            return "\(path): tensor '\(tensor)': invalid header entry: \(reason)"
        case let .unknownDType(path, tensor, dtype):
            return "\(path): tensor '\(tensor)': unknown dtype '\(dtype)'"
        case let .byteCountMismatch(path, tensor, expected, actual):
            return "\(path): tensor '\(tensor)': data_offsets span \(actual) bytes, but its shape and dtype need \(expected)"
        case let .offsetsOutOfOrder(path, tensor, expected, actual):
            return "\(path): tensor '\(tensor)': data begins at \(actual), expected \(expected) (tensors must be contiguous and non-overlapping)"
        case let .dataSizeMismatch(path, expected, actual):
            return "\(path): data section holds \(actual) bytes but the header describes \(expected) (file truncated or corrupt)"
        case let .tensorNotFound(path, tensor):
            return "\(path): no tensor named '\(tensor)'"
        case let .notConvertible(path, tensor, dtype, to):
            return "\(path): tensor '\(tensor)' has dtype \(dtype), which does not convert to \(to)"
        case let .shapeMismatch(path, tensor, expected, actual):
            return "\(path): tensor '\(tensor)' has shape \(actual), expected \(expected)"
        case let .invalidTensorName(name, reason):
            return "invalid tensor name '\(name)': \(reason)"
        case let .invalidWriterInput(tensor, reason):
            return "tensor '\(tensor)': \(reason)"
        case let .writeFailed(path, reason):
            return "\(path): cannot write safetensors file: \(reason)"
        }
    }
}
