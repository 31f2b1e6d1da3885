import FableFormats
import Foundation

/// A safetensors file opened for reading: memory-mapped, header parsed and validated.
///
/// Opening checks everything before any tensor is read: the header length fits the file,
/// the header is valid JSON, every entry has a known dtype, a shape and offsets whose span
/// equals shape times dtype size, the tensors are contiguous and non-overlapping from
/// offset 0, and the data section ends exactly at the end of the file. Tensor data is
/// read on request from the mapping.
public final class SafeTensorsFile: @unchecked Sendable {
    /// The file that was opened.
    public let url: URL
    /// The `__metadata__` map (empty when the file has none).
    public let metadata: [String: String]
    /// Every tensor, in data order.
    public let tensors: [SafeTensors.TensorInfo]
    private let indexByName: [String: Int]
    private let mapping: MappedFile
    /// Byte offset of the data section in the file (8 + header length).
    public let dataStart: Int

    /// Opens and validates the file at `url`.
    /// - Throws: ``SafeTensorsError`` naming the file (and tensor) when anything is wrong.
    public init(contentsOf url: URL) throws {
        self.url = url
        let path = url.path
        do {
            mapping = try MappedFile(url: url)
        } catch let error as MappedFileError {
            switch error {
            case let .cannotOpen(_, reason), let .cannotMap(_, reason):
                throw SafeTensorsError.cannotOpen(path: path, reason: reason)
            }
        }
        let bytes = mapping.bytes
        guard bytes.count >= 8 else { throw SafeTensorsError.truncatedHeader(path: path, fileSize: bytes.count) }
        let headerLength = bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw SafeTensorsError.headerLengthOutOfRange(path: path, headerLength: headerLength, fileSize: bytes.count)
        }
        let start = 8 + Int(headerLength)
        let header = try SafeTensors.parseHeader(UnsafeRawBufferPointer(rebasing: bytes[8..<start]), path: path)
        guard header.dataSize == bytes.count - start else {
            throw SafeTensorsError.dataSizeMismatch(path: path, expected: header.dataSize, actual: bytes.count - start)
        }
        dataStart = start
        metadata = header.metadata
        tensors = header.tensors
        var index: [String: Int] = [:]
        for (i, tensor) in tensors.enumerated() { index[tensor.name] = i }
        indexByName = index
    }

    /// The tensor names in data order.
    public var names: [String] { tensors.map(\.name) }

    /// True when the file holds a tensor called `name`.
    public func contains(_ name: String) -> Bool { indexByName[name] != nil }

    /// The header entry of tensor `name`.
    public func info(named name: String) throws -> SafeTensors.TensorInfo {
        guard let index = indexByName[name] else { throw SafeTensorsError.tensorNotFound(path: url.path, tensor: name) }
        return tensors[index]
    }

    /// The raw little-endian bytes of tensor `name`, valid while this object lives.
    public func rawBytes(named name: String) throws -> UnsafeRawBufferPointer {
        let info = try info(named: name)
        return rawBytes(of: info)
    }

    private func rawBytes(of info: SafeTensors.TensorInfo) -> UnsafeRawBufferPointer {
        let range = (dataStart + info.dataOffsets.lowerBound)..<(dataStart + info.dataOffsets.upperBound)
        return UnsafeRawBufferPointer(rebasing: mapping.bytes[range])
    }

    // MARK: - Float32 access

    /// Tensor `name` as Float32 values (row-major), converted from F16, BF16 or F64 if needed.
    public func floats(named name: String) throws -> [Float] {
        let info = try info(named: name)
        return try [Float](unsafeUninitializedCapacity: info.elementCount) { buffer, initialized in
            try convert(info, into: buffer)
            initialized = info.elementCount
        }
    }

    /// Reads tensor `name` into `destination`, converting to Float32, after checking its
    /// shape equals `expectedShape` (when given) and its element count fits exactly.
    public func readFloats(
        named name: String, expectedShape: [Int]? = nil, into destination: UnsafeMutableBufferPointer<Float>
    ) throws {
        let info = try info(named: name)
        if let expectedShape, expectedShape != info.shape {
            throw SafeTensorsError.shapeMismatch(path: url.path, tensor: name, expected: expectedShape, actual: info.shape)
        }
        guard destination.count == info.elementCount else {
            throw SafeTensorsError.shapeMismatch(
                path: url.path, tensor: name, expected: [destination.count], actual: info.shape)
        }
        try convert(info, into: destination)
    }

    private func convert(_ info: SafeTensors.TensorInfo, into destination: UnsafeMutableBufferPointer<Float>) throws {
        let source = rawBytes(of: info)
        let count = info.elementCount
        guard count > 0, let out = destination.baseAddress else { return }
        switch info.dtype {
        case .f32:
            // The data section need not be 4-byte aligned, so copy bytes rather than rebind.
            UnsafeMutableRawPointer(out).copyMemory(from: source.baseAddress!, byteCount: count * 4)
        case .f16:
            Parallel.forEachChunk(count, minimumChunk: 1 << 16) { range in
                for i in range { out[i] = HalfPrecision.float(fromFloat16Bits: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
            }
        case .bf16:
            Parallel.forEachChunk(count, minimumChunk: 1 << 16) { range in
                for i in range { out[i] = HalfPrecision.float(fromBFloat16Bits: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
            }
        case .f64:
            for i in 0..<count { out[i] = Float(source.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
        default:
            throw SafeTensorsError.notConvertible(path: url.path, tensor: info.name, dtype: info.dtype.rawValue, to: "F32")
        }
    }

    // MARK: - Integer access

    /// Tensor `name` as Int64 values, widened from any integer dtype (or BOOL as 0/1).
    public func integers(named name: String) throws -> [Int64] {
        let info = try info(named: name)
        let source = rawBytes(of: info)
        let count = info.elementCount
        func load<T: FixedWidthInteger>(_: T.Type) -> [Int64] {
            (0..<count).map { Int64(truncatingIfNeeded: source.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)) }
        }
        switch info.dtype {
        case .bool, .u8: return load(UInt8.self)
        case .i8: return load(Int8.self)
        case .i16: return load(Int16.self)
        case .u16: return load(UInt16.self)
        case .i32: return load(Int32.self)
        case .u32: return load(UInt32.self)
        case .i64: return load(Int64.self)
        case .u64:
            return try (0..<count).map { i -> Int64 in
                let value = source.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)
                guard let narrowed = Int64(exactly: value) else {
                    throw SafeTensorsError.notConvertible(path: url.path, tensor: name, dtype: "U64 value \(value)", to: "I64")
                }
                return narrowed
            }
        default:
            throw SafeTensorsError.notConvertible(path: url.path, tensor: name, dtype: info.dtype.rawValue, to: "I64")
        }
    }
}
