// MARK: - Header encoding

extension SafeTensors {
    /// The JSON header exactly as the reference library (Rust, serde_json) writes it:
    /// no whitespace, `__metadata__` first, then tensors in data order, each as
    /// `{"dtype":..,"shape":[..],"data_offsets":[b,e]}`; padded with spaces to a multiple of 8.
    static func encodeHeader(tensors: [TensorInfo], metadata: [String: String]?) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + tensors.count * 96)
        out.append(UInt8(ascii: "{"))
        var first = true
        if let metadata {
            appendJSONString(metadataKey, to: &out)
            out.append(contentsOf: Array(":{".utf8))
            for (index, key) in metadata.keys.sorted().enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                appendJSONString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                appendJSONString(metadata[key]!, to: &out)
            }
            out.append(UInt8(ascii: "}"))
            first = false
        }
        for tensor in tensors {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            appendJSONString(tensor.name, to: &out)
            out.append(contentsOf: Array(":{\"dtype\":".utf8))
            appendJSONString(tensor.dtype.rawValue, to: &out)
            out.append(contentsOf: Array(",\"shape\":[".utf8))
            out.append(contentsOf: Array(tensor.shape.map(String.init).joined(separator: ",").utf8))
            out.append(contentsOf: Array("],\"data_offsets\":[".utf8))
            out.append(contentsOf: Array("\(tensor.dataOffsets.lowerBound),\(tensor.dataOffsets.upperBound)]}".utf8))
        }
        out.append(UInt8(ascii: "}"))
        let padding = (8 - out.count % 8) % 8
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padding))
        return out
    }

    /// A JSON string literal escaped as serde_json does: `"` and `\` escaped, the short
    /// forms for \b \f \n \r \t, `\u00xx` (lowercase hex) for other control characters,
    /// everything else (including `/` and non-ASCII UTF-8) verbatim.
    static func appendJSONString(_ string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        let hex = Array("0123456789abcdef".utf8)
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): out.append(contentsOf: [92, 92])
            case 0x08: out.append(contentsOf: [92, UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [92, UInt8(ascii: "f")])
            case 0x0A: out.append(contentsOf: [92, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [92, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [92, UInt8(ascii: "t")])
            case 0..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
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
        let json: HeaderJSON
        do {
            json = try HeaderJSON.parse(bytes)
        } catch let error as HeaderJSON.ParseError {
            throw SafeTensorsError.invalidHeader(path: path, reason: "not valid JSON: \(error)")
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

    private static func parseEntry(name: String, value: HeaderJSON, path: String) throws -> TensorInfo {
        guard case let .object(fields) = value else {
            throw SafeTensorsError.invalidTensorEntry(path: path, tensor: name, reason: "expected an object")
        }
        func field(_ key: String) -> HeaderJSON? { fields.first { $0.key == key }?.value }
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
    private static func integerArray(_ value: HeaderJSON?) -> [Int]? {
        guard case let .array(items)? = value else { return nil }
        var result: [Int] = []
        result.reserveCapacity(items.count)
        for item in items {
            guard case let .integer(number) = item, number >= 0 else { return nil }
            result.append(number)
        }
        return result
    }
}
