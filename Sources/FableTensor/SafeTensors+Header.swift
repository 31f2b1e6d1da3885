import FableFormats

// MARK: - Header encoding

extension SafeTensors {
    /// The JSON header exactly as the reference library (Rust, serde_json) writes it:
    /// no whitespace, `__metadata__` first, then tensors in data order, each as
    /// `{"dtype":..,"shape":[..],"data_offsets":[b,e]}`; padded with spaces to a multiple of 8.
    static func encodeHeader(tensors: [TensorInfo], metadata: [String: String]?) -> [UInt8] {
        var writer = JSONWriter(style: .compact)
        writer.beginObject()
        if let metadata {
            writer.key(metadataKey)
            writer.beginObject()
            for key in metadata.keys.sorted() {
                writer.key(key)
                writer.string(metadata[key]!)
            }
            writer.endObject()
        }
        for tensor in tensors {
            writer.key(tensor.name)
            writer.beginObject()
            writer.key("dtype")
            writer.string(tensor.dtype.rawValue)
            writer.key("shape")
            writer.beginArray()
            for dimension in tensor.shape { writer.integer(dimension) }
            writer.endArray()
            writer.key("data_offsets")
            writer.beginArray()
            writer.integer(tensor.dataOffsets.lowerBound)
            writer.integer(tensor.dataOffsets.upperBound)
            writer.endArray()
            writer.endObject()
        }
        writer.endObject()
        // serde_json's string escaping is JSONWriter's: `"`, `\`, short forms for
        // \b \f \n \r \t, `\u00xx` for other control characters, the rest verbatim.
        var out = writer.takeBytes()
        let padding = (8 - out.count % 8) % 8
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padding))
        return out
    }
}

// MARK: - Header parsing

extension SafeTensors {
    /// The validated contents of a header: tensors sorted by data offset, and the metadata.
    struct ParsedHeader {
        var tensors: [TensorInfo]
        var metadata: [String: String]
        /// Total bytes the tensors occupy: the data section must be exactly this long.
        var dataSize: Int
    }

    /// Parses and validates a JSON header: every entry well formed, byte counts matching
    /// shape times dtype size, tensors contiguous from offset 0 without gaps or overlaps.
    static func parseHeader(_ bytes: UnsafeRawBufferPointer, path: String) throws -> ParsedHeader {
        let json: JSONValue
        do {
            json = try JSONParser.parse(bytes)
        } catch {
            throw SafeTensorsError.invalidHeader(path: path, reason: "not valid JSON at byte \(error.offset) of the header: \(error.reason)")
        }
        guard case let .object(members) = json else {
            throw SafeTensorsError.invalidHeader(path: path, reason: "expected a JSON object at the top level")
        }
        var metadata: [String: String] = [:]
        var tensors: [TensorInfo] = []
        tensors.reserveCapacity(members.count)
        for (name, value) in members {
            if name == metadataKey {
                guard case let .object(map) = value else {
                    throw SafeTensorsError.invalidHeader(path: path, reason: "__metadata__ must be an object of strings")
                }
                for (key, item) in map {
                    guard case let .string(text) = item else {
                        throw SafeTensorsError.invalidHeader(path: path, reason: "__metadata__ value for '\(key)' is not a string")
                    }
                    metadata[key] = text
                }
                continue
            }
            tensors.append(try parseEntry(name: name, value: value, path: path))
        }
        // Contiguity: sorted by begin offset, each tensor starts where the previous ended.
        tensors.sort {
            ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound, $0.name)
                < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound, $1.name)
        }
        var expectedBegin = 0
        for tensor in tensors {
            guard tensor.dataOffsets.lowerBound == expectedBegin else {
                throw SafeTensorsError.offsetsOutOfOrder(
                    path: path, tensor: tensor.name, expectedBegin: expectedBegin,
                    actualBegin: tensor.dataOffsets.lowerBound)
            }
            expectedBegin = tensor.dataOffsets.upperBound
        }
        return ParsedHeader(tensors: tensors, metadata: metadata, dataSize: expectedBegin)
    }

    private static func parseEntry(name: String, value: JSONValue, path: String) throws -> TensorInfo {
        guard case let .object(fields) = value else {
            throw SafeTensorsError.invalidTensorEntry(path: path, tensor: name, reason: "expected an object")
        }
        func field(_ key: String) -> JSONValue? { fields[key] }
        guard case let .string(dtypeText)? = field("dtype") else {
            throw SafeTensorsError.invalidTensorEntry(path: path, tensor: name, reason: "missing string field 'dtype'")
        }
        guard let dtype = DType(rawValue: dtypeText) else {
            throw SafeTensorsError.unknownDType(path: path, tensor: name, dtype: dtypeText)
        }
        guard let shape = integerArray(field("shape")) else {
            throw SafeTensorsError.invalidTensorEntry(
                path: path, tensor: name, reason: "'shape' must be an array of non-negative integers")
        }
        guard let offsets = integerArray(field("data_offsets")), offsets.count == 2, offsets[0] <= offsets[1] else {
            throw SafeTensorsError.invalidTensorEntry(
                path: path, tensor: name, reason: "'data_offsets' must be [begin, end] with 0 <= begin <= end")
        }
        guard let needed = byteCount(shape: shape, dtype: dtype) else {
            throw SafeTensorsError.invalidTensorEntry(path: path, tensor: name, reason: "shape \(shape) is too large")
        }
        let range = offsets[0]..<offsets[1]
        guard range.count == needed else {
            throw SafeTensorsError.byteCountMismatch(path: path, tensor: name, expected: needed, actual: range.count)
        }
        return TensorInfo(name: name, dtype: dtype, shape: shape, dataOffsets: range)
    }

    /// The value as non-negative integers, or nil if it is anything else.
    private static func integerArray(_ value: JSONValue?) -> [Int]? {
        guard case let .array(items)? = value else { return nil }
        var result: [Int] = []
        result.reserveCapacity(items.count)
        for item in items {
            guard case let .number(.integer(number)) = item, number >= 0 else { return nil }
            result.append(Int(number))
        }
        return result
    }
}
