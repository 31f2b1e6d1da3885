import FableFormats
import FableTensor
import Foundation

/// Collects metadata and tensors and writes one GGUF v3 file (see `GGUF.swift`),
/// atomically through FableFormats' ``AtomicFile``. Metadata and tensors keep the order
/// they were added in; tensor data is aligned to ``alignment`` bytes.
public struct GGUFWriter {
    /// Data alignment; written as `general.alignment` when not the default 32.
    public let alignment: Int
    public private(set) var metadata: [(key: String, value: GGUF.Value)] = []
    private var tensors: [(name: String, ne: [Int], type: GGUF.TensorType, storage: Storage)] = []

    private enum Storage {
        case owned([UInt8])
        /// Caller-owned memory that must stay valid until the write returns.
        case borrowed(UnsafeRawBufferPointer)

        var count: Int {
            switch self {
            case .owned(let bytes): return bytes.count
            case .borrowed(let buffer): return buffer.count
            }
        }
    }

    /// - Parameter alignment: a multiple of 8 (the spec's rule), 32 by default.
    public init(alignment: Int = GGUF.defaultAlignment) {
        precondition(alignment > 0 && alignment % 8 == 0, "GGUF alignment must be a positive multiple of 8")
        self.alignment = alignment
        if alignment != GGUF.defaultAlignment { metadata.append((GGUF.alignmentKey, .uint32(UInt32(alignment)))) }
    }

    /// Sets a metadata entry (replacing an earlier value of the same key).
    /// - Throws: ``InterchangeError/invalidValue(path:key:value:expected:)`` for a key that is
    ///   not ASCII or an array whose elements differ in type.
    public mutating func set(_ key: String, _ value: GGUF.Value) throws(InterchangeError) {
        guard !key.isEmpty, key.utf8.count < 65_536, key.unicodeScalars.allSatisfy({ $0.isASCII }) else {
            throw .invalidValue(path: "GGUF metadata", key: key, value: key, expected: "a non-empty ASCII key")
        }
        if case .array(let type, let items) = value, let odd = items.first(where: { $0.type != type }) {
            throw .invalidValue(path: "GGUF metadata", key: key, value: "an element of type \(odd.type)",
                                expected: "every element of type \(type)")
        }
        if let index = metadata.firstIndex(where: { $0.key == key }) {
            metadata[index].value = value
        } else {
            metadata.append((key, value))
        }
    }

    /// Adds a tensor from its little-endian bytes. `shape` is in PyTorch order (slowest
    /// dimension first); the file stores it reversed, as ggml's `ne`.
    public mutating func addTensor(_ name: String, shape: [Int], type: GGUF.TensorType, bytes: [UInt8]) throws(InterchangeError) {
        try append(name, shape: shape, type: type, storage: .owned(bytes))
    }

    /// Adds a Float32 tensor without copying; `values` must stay valid until the write returns.
    public mutating func addTensor(_ name: String, shape: [Int], borrowing values: UnsafeBufferPointer<Float>) throws(InterchangeError) {
        try append(name, shape: shape, type: .f32, storage: .borrowed(UnsafeRawBufferPointer(values)))
    }

    private mutating func append(_ name: String, shape: [Int], type: GGUF.TensorType, storage: Storage) throws(InterchangeError) {
        // ggml keeps names in a 64-byte field with a terminating NUL.
        guard !name.isEmpty, name.utf8.count < 64 else {
            throw .invalidValue(path: "GGUF tensor table", key: name, value: "\(name.utf8.count) bytes", expected: "a name of 1 to 63 bytes")
        }
        guard !tensors.contains(where: { $0.name == name }) else {
            throw .invalidValue(path: "GGUF tensor table", key: name, value: "added twice", expected: "unique tensor names")
        }
        guard let size = type.elementSize, !shape.isEmpty, shape.count <= 4, shape.allSatisfy({ $0 > 0 }),
              shape.reduce(size, *) == storage.count else {
            throw .invalidValue(path: "GGUF tensor table", key: name, value: "shape \(shape) with \(storage.count) bytes",
                                expected: "1 to 4 positive dimensions whose \(type) elements fill the bytes")
        }
        tensors.append((name, shape.reversed(), type, storage))
    }

    // MARK: - Output

    /// Header, metadata and tensor table, padded to the start of the data section, and
    /// each tensor's offset in the data section.
    private func prelude() -> (bytes: [UInt8], offsets: [Int]) {
        var out = GGUFEncoder()
        out.integer(GGUF.magic)
        out.integer(GGUF.version)
        out.integer(UInt64(tensors.count))
        out.integer(UInt64(metadata.count))
        for (key, value) in metadata {
            out.string(key)
            out.integer(value.type.rawValue)
            out.value(value)
        }
        var offsets: [Int] = []
        var offset = 0
        for tensor in tensors {
            offsets.append(offset)
            out.string(tensor.name)
            out.integer(UInt32(tensor.ne.count))
            for dimension in tensor.ne { out.integer(UInt64(dimension)) }
            out.integer(tensor.type.rawValue)
            out.integer(UInt64(offset))
            offset = GGUF.align(offset + tensor.storage.count, to: alignment)
        }
        out.bytes.append(contentsOf: [UInt8](repeating: 0, count: GGUF.align(out.bytes.count, to: alignment) - out.bytes.count))
        return (out.bytes, offsets)
    }

    private func emit(_ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let (head, _) = prelude()
        try head.withUnsafeBytes(sink)
        for tensor in tensors {
            switch tensor.storage {
            case .owned(let bytes): try bytes.withUnsafeBytes(sink)
            case .borrowed(let buffer): try sink(buffer)
            }
            let padding = GGUF.align(tensor.storage.count, to: alignment) - tensor.storage.count
            if padding > 0 { try [UInt8](repeating: 0, count: padding).withUnsafeBytes(sink) }
        }
    }

    /// The whole file as bytes (small files and tests).
    public func serialized() throws -> [UInt8] {
        var out: [UInt8] = []
        try emit { out.append(contentsOf: $0) }
        return out
    }

    /// Writes the file to `url` atomically (temporary file, flush, rename).
    public func write(to url: URL) throws {
        do {
            try AtomicFile.write(to: url) { sink in try emit { try sink.write($0) } }
        } catch let error as InterchangeError {
            throw error
        } catch {
            throw InterchangeError.writeFailed(path: url.path, reason: "\(error)")
        }
    }
}
