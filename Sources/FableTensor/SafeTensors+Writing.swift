import FableFormats
import Foundation

/// Collects named tensors and writes them as one safetensors file.
///
/// Layout matches the reference library byte for byte: tensors ordered by dtype (widest
/// first, in its enum order) then by name, the header padded with spaces to a multiple of
/// 8 bytes, metadata keys sorted. Files are written atomically (temporary file, then rename).
public struct SafeTensorsWriter {
    /// The `__metadata__` map; nil writes no metadata entry at all (an empty map writes `{}`).
    public var metadata: [String: String]?

    private enum Storage {
        case owned([UInt8])
        /// Caller-owned memory that must stay valid until the write finishes.
        case borrowed(UnsafeRawBufferPointer)

        var count: Int {
            switch self {
            case let .owned(bytes): return bytes.count
            case let .borrowed(buffer): return buffer.count
            }
        }
    }

    private var items: [(name: String, dtype: SafeTensors.DType, shape: [Int], storage: Storage)] = []
    private var names = Set<String>()

    /// An empty writer with optional metadata.
    public init(metadata: [String: String]? = nil) {
        self.metadata = metadata
    }

    /// The number of tensors added so far.
    public var count: Int { items.count }

    // MARK: - Adding tensors

    /// Adds a Float32 tensor, copying `values`.
    public mutating func add(_ name: String, shape: [Int], floats values: [Float]) throws {
        try values.withUnsafeBufferPointer { try add(name, shape: shape, copying: $0) }
    }

    /// Adds a Float32 tensor, copying the buffer.
    public mutating func add(_ name: String, shape: [Int], copying values: UnsafeBufferPointer<Float>) throws {
        try add(name, dtype: .f32, shape: shape, bytes: Array(UnsafeRawBufferPointer(values)))
    }

    /// Adds a Float32 tensor without copying: the buffer must stay valid and unchanged
    /// until ``write(to:)`` or ``serialized()`` returns. Checkpoints use this to stream a
    /// parameter store straight to disk.
    public mutating func add(_ name: String, shape: [Int], borrowing values: UnsafeBufferPointer<Float>) throws {
        try append(name, dtype: .f32, shape: shape, storage: .borrowed(UnsafeRawBufferPointer(values)))
    }

    /// Adds Float32 values stored as F16 or BF16 (rounded to nearest even) or F32/F64.
    public mutating func add(_ name: String, shape: [Int], floats values: [Float], as dtype: SafeTensors.DType) throws {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * dtype.byteSize)
        switch dtype {
        case .f32:
            bytes = values.withUnsafeBytes { Array($0) }
        case .f16:
            for value in values { appendLittleEndian(HalfPrecision.float16Bits(from: value), to: &bytes) }
        case .bf16:
            for value in values { appendLittleEndian(HalfPrecision.bfloat16Bits(from: value), to: &bytes) }
        case .f64:
            for value in values { appendLittleEndian(Double(value).bitPattern, to: &bytes) }
        default:
            throw SafeTensorsError.invalidWriterInput(tensor: name, reason: "cannot store floats as \(dtype.rawValue)")
        }
        try add(name, dtype: dtype, shape: shape, bytes: bytes)
    }

    /// Adds Int64 values stored as any integer dtype; values must fit the dtype.
    public mutating func add(_ name: String, shape: [Int], integers values: [Int64], as dtype: SafeTensors.DType) throws {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * dtype.byteSize)
        func put<T: FixedWidthInteger>(_: T.Type) throws {
            for value in values {
                guard let narrowed = T(exactly: value) else {
                    throw SafeTensorsError.invalidWriterInput(tensor: name, reason: "value \(value) does not fit \(dtype.rawValue)")
                }
                appendLittleEndian(narrowed, to: &bytes)
            }
        }
        switch dtype {
        case .u8: try put(UInt8.self)
        case .bool:
            guard values.allSatisfy({ $0 == 0 || $0 == 1 }) else {
                throw SafeTensorsError.invalidWriterInput(tensor: name, reason: "BOOL values must be 0 or 1")
            }
            try put(UInt8.self)
        case .i8: try put(Int8.self)
        case .i16: try put(Int16.self)
        case .u16: try put(UInt16.self)
        case .i32: try put(Int32.self)
        case .u32: try put(UInt32.self)
        case .i64: try put(Int64.self)
        case .u64: try put(UInt64.self)
        default:
            throw SafeTensorsError.invalidWriterInput(tensor: name, reason: "cannot store integers as \(dtype.rawValue)")
        }
        try add(name, dtype: dtype, shape: shape, bytes: bytes)
    }

    /// Adds a tensor of any dtype from its raw little-endian bytes.
    public mutating func add(_ name: String, dtype: SafeTensors.DType, shape: [Int], bytes: [UInt8]) throws {
        try append(name, dtype: dtype, shape: shape, storage: .owned(bytes))
    }

    private mutating func append(_ name: String, dtype: SafeTensors.DType, shape: [Int], storage: Storage) throws {
        guard name != SafeTensors.metadataKey else {
            throw SafeTensorsError.invalidTensorName(name: name, reason: "reserved for the metadata map")
        }
        guard !names.contains(name) else {
            throw SafeTensorsError.invalidTensorName(name: name, reason: "added twice")
        }
        guard let needed = SafeTensors.byteCount(shape: shape, dtype: dtype) else {
            throw SafeTensorsError.invalidWriterInput(tensor: name, reason: "invalid shape \(shape)")
        }
        guard needed == storage.count else {
            throw SafeTensorsError.invalidWriterInput(
                tensor: name, reason: "shape \(shape) of \(dtype.rawValue) needs \(needed) bytes, got \(storage.count)")
        }
        names.insert(name)
        items.append((name, dtype, shape, storage))
    }

    // MARK: - Output

    /// The tensors in file order with their data offsets.
    private func layout() -> (infos: [SafeTensors.TensorInfo], order: [Int]) {
        let order = items.indices.sorted { a, b in
            let (x, y) = (items[a], items[b])
            if x.dtype.layoutRank != y.dtype.layoutRank { return x.dtype.layoutRank > y.dtype.layoutRank }
            return x.name < y.name
        }
        var offset = 0
        var infos: [SafeTensors.TensorInfo] = []
        for index in order {
            let item = items[index]
            infos.append(.init(name: item.name, dtype: item.dtype, shape: item.shape,
                               dataOffsets: offset..<(offset + item.storage.count)))
            offset += item.storage.count
        }
        return (infos, order)
    }

    /// Streams the file's bytes (length, header, data) to `emit`.
    private func emit(_ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let (infos, order) = layout()
        let header = SafeTensors.encodeHeader(tensors: infos, metadata: metadata)
        var prefix: [UInt8] = []
        appendLittleEndian(UInt64(header.count), to: &prefix)
        try prefix.withUnsafeBytes(sink)
        try header.withUnsafeBytes(sink)
        for index in order {
            switch items[index].storage {
            case let .owned(bytes): try bytes.withUnsafeBytes(sink)
            case let .borrowed(buffer): if buffer.count > 0 { try sink(buffer) }
            }
        }
    }

    /// The complete file as bytes (for small files and tests).
    public func serialized() throws -> [UInt8] {
        var out: [UInt8] = []
        try emit { out.append(contentsOf: $0) }
        return out
    }

    /// Writes the file atomically: a temporary file beside `url`, renamed into place.
    /// - Throws: ``SafeTensorsError/writeFailed(path:reason:)`` when the file system refuses.
    public func write(to url: URL) throws {
        do {
            try AtomicFile.write(to: url) { sink in try emit { try sink.write($0) } }
        } catch let error as AtomicFileError {
            switch error {
            case let .writeFailed(_, reason): throw SafeTensorsError.writeFailed(path: url.path, reason: reason)
            }
        }
    }
}

@inline(__always)
private func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
}
