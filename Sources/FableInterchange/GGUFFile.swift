import FableTensor
import Foundation

/// A GGUF v3 file read into memory: metadata, tensor table and tensor data (see `GGUF.swift`).
/// Every length and offset is checked against the file before use, so a truncated or
/// corrupt file gives ``InterchangeError/malformedGGUF(path:offset:reason:)`` naming the byte.
public struct GGUFFile {
    /// One entry of the tensor table.
    public struct TensorInfo: Equatable, Sendable {
        public var name: String
        /// ggml's `ne`: dimensions fastest-varying first.
        public var ne: [Int]
        public var type: GGUF.TensorType
        /// Offset inside the data section.
        public var offset: Int
        /// Dimensions in PyTorch order (slowest first).
        public var shape: [Int] { ne.reversed() }
        public var elementCount: Int { ne.reduce(1, *) }
    }

    public let path: String
    public let version: UInt32
    /// Metadata in file order.
    public let metadata: [(key: String, value: GGUF.Value)]
    public let tensors: [TensorInfo]
    public let alignment: Int
    /// Offset of the data section in the file.
    public let dataStart: Int
    private let bytes: [UInt8]

    /// Reads and parses the file at `url`.
    public init(contentsOf url: URL) throws(InterchangeError) {
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw .unreadable(path: url.path, reason: "cannot read (\(error.localizedDescription))")
        }
        try self.init(bytes: [UInt8](data), path: url.path)
    }

    /// Parses `bytes`; `path` names the input in errors.
    public init(bytes: [UInt8], path: String) throws(InterchangeError) {
        var reader = GGUFDecoder(bytes: bytes, path: path)
        guard try reader.integer(UInt32.self) == GGUF.magic else {
            throw .malformedGGUF(path: path, offset: 0, reason: "the magic is not \"GGUF\"")
        }
        version = try reader.integer(UInt32.self)
        guard version == GGUF.version else {
            throw .malformedGGUF(path: path, offset: 4, reason: "version \(version); this reader handles version \(GGUF.version)")
        }
        let tensorCount = try reader.count(minimumSize: 8 + 4 + 4 + 8)
        let metadataCount = try reader.count(minimumSize: 8 + 4 + 1)
        var metadata: [(key: String, value: GGUF.Value)] = []
        for _ in 0..<metadataCount {
            let key = try reader.string()
            let typeOffset = reader.position
            guard let type = GGUF.ValueType(rawValue: try reader.integer(UInt32.self)) else {
                throw .malformedGGUF(path: path, offset: typeOffset, reason: "unknown value type for key \(key)")
            }
            metadata.append((key, try reader.value(of: type, depth: 0)))
        }
        var alignment = GGUF.defaultAlignment
        if let value = metadata.first(where: { $0.key == GGUF.alignmentKey })?.value {
            guard case .uint32(let raw) = value, raw > 0, raw % 8 == 0 else {
                throw .malformedGGUF(path: path, offset: 0, reason: "\(GGUF.alignmentKey) must be a uint32 multiple of 8")
            }
            alignment = Int(raw)
        }
        var tensors: [TensorInfo] = []
        for _ in 0..<tensorCount {
            let name = try reader.string()
            let dimsOffset = reader.position
            let dimensionCount = try reader.integer(UInt32.self)
            guard (1...4).contains(dimensionCount) else {
                throw .malformedGGUF(path: path, offset: dimsOffset, reason: "tensor \(name) has \(dimensionCount) dimensions (1 to 4 allowed)")
            }
            var ne: [Int] = []
            for _ in 0..<dimensionCount {
                let at = reader.position
                let dimension = try reader.integer(UInt64.self)
                guard dimension > 0, dimension < 1 << 40 else {
                    throw .malformedGGUF(path: path, offset: at, reason: "tensor \(name) has dimension \(dimension)")
                }
                ne.append(Int(dimension))
            }
            let type = GGUF.TensorType(rawValue: try reader.integer(UInt32.self))
            let offsetAt = reader.position
            let offset = try reader.integer(UInt64.self)
            guard offset % UInt64(alignment) == 0, offset < UInt64(bytes.count) else {
                throw .malformedGGUF(path: path, offset: offsetAt, reason: "tensor \(name) offset \(offset) is not aligned to \(alignment) or lies past the end")
            }
            tensors.append(TensorInfo(name: name, ne: ne, type: type, offset: Int(offset)))
        }
        dataStart = GGUF.align(reader.position, to: alignment)
        for tensor in tensors {
            if let size = tensor.type.elementSize, dataStart + tensor.offset + tensor.elementCount * size > bytes.count {
                throw .malformedGGUF(path: path, offset: dataStart + tensor.offset, reason: "tensor \(tensor.name) runs past the end of the file")
            }
        }
        self.path = path
        self.metadata = metadata
        self.tensors = tensors
        self.alignment = alignment
        self.bytes = bytes
    }

    /// The value of metadata key `key`, or nil.
    public func value(_ key: String) -> GGUF.Value? {
        metadata.first { $0.key == key }?.value
    }

    /// The table entry of tensor `name`, or nil.
    public func tensor(named name: String) -> TensorInfo? {
        tensors.first { $0.name == name }
    }

    /// A tensor's values as Float32 (F32, F16 and BF16 tensors).
    public func floats(named name: String) throws(InterchangeError) -> [Float] {
        guard let info = tensor(named: name) else { throw .missingTensor(path: path, tensor: name) }
        guard let size = info.type.elementSize else {
            throw .unreadable(path: path, reason: "tensor \(name) has ggml type \(info.type.rawValue), which Fable does not convert")
        }
        let start = dataStart + info.offset
        return bytes[start..<(start + info.elementCount * size)].withUnsafeBytes { raw in
            (0..<info.elementCount).map { i -> Float in
                switch info.type {
                case .f32: return Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                case .f16: return HalfPrecision.float(fromFloat16Bits: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                default: return HalfPrecision.float(fromBFloat16Bits: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                }
            }
        }
    }
}

/// Bounds-checked little-endian reading of GGUF's primitives.
struct GGUFDecoder {
    let bytes: [UInt8]
    let path: String
    var position = 0

    func fail(_ reason: String, at offset: Int? = nil) -> InterchangeError {
        .malformedGGUF(path: path, offset: offset ?? position, reason: reason)
    }

    mutating func integer<T: FixedWidthInteger>(_: T.Type) throws(InterchangeError) -> T {
        let size = MemoryLayout<T>.size
        guard position + size <= bytes.count else { throw fail("the file ends inside a \(size)-byte number") }
        var raw: UInt64 = 0
        for i in 0..<size { raw |= UInt64(bytes[position + i]) << (8 * i) }
        position += size
        return T(truncatingIfNeeded: raw)
    }

    /// A u64 count, checked against the bytes left (each item takes at least `minimumSize`).
    mutating func count(minimumSize: Int) throws(InterchangeError) -> Int {
        let at = position
        let raw = try integer(UInt64.self)
        guard raw <= UInt64(bytes.count - position) / UInt64(max(minimumSize, 1)) else {
            throw fail("count \(raw) does not fit in the rest of the file", at: at)
        }
        return Int(raw)
    }

    mutating func string() throws(InterchangeError) -> String {
        let at = position
        let length = try count(minimumSize: 1)
        guard let text = String(validating: bytes[position..<(position + length)], as: UTF8.self) else {
            throw fail("string is not valid UTF-8", at: at)
        }
        position += length
        return text
    }

    mutating func value(of type: GGUF.ValueType, depth: Int) throws(InterchangeError) -> GGUF.Value {
        switch type {
        case .uint8: return .uint8(try integer(UInt8.self))
        case .int8: return .int8(try integer(Int8.self))
        case .uint16: return .uint16(try integer(UInt16.self))
        case .int16: return .int16(try integer(Int16.self))
        case .uint32: return .uint32(try integer(UInt32.self))
        case .int32: return .int32(try integer(Int32.self))
        case .float32: return .float32(Float(bitPattern: try integer(UInt32.self)))
        case .bool:
            let at = position
            let raw = try integer(UInt8.self)
            guard raw <= 1 else { throw fail("bool value \(raw) is neither 0 nor 1", at: at) }
            return .bool(raw == 1)
        case .string: return .string(try string())
        case .array:
            guard depth < 8 else { throw fail("arrays nested too deeply") }
            let at = position
            guard let elementType = GGUF.ValueType(rawValue: try integer(UInt32.self)) else {
                throw fail("unknown array element type", at: at)
            }
            let count = try self.count(minimumSize: 1)
            var items: [GGUF.Value] = []
            items.reserveCapacity(count)
            for _ in 0..<count { items.append(try value(of: elementType, depth: depth + 1)) }
            return .array(elementType, items)
        case .uint64: return .uint64(try integer(UInt64.self))
        case .int64: return .int64(try integer(Int64.self))
        case .float64: return .float64(Double(bitPattern: try integer(UInt64.self)))
        }
    }
}
