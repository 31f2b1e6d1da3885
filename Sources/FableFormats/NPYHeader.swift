/// A .npy header that could not be read, naming the file and the byte offset.
package struct NPYFormatError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file (as the caller named it).
    package let path: String
    /// Byte offset in the file where the problem is.
    package let offset: Int
    /// What should have been there, e.g. "the NumPy magic \x93NUMPY".
    package let expected: String

    package init(path: String, offset: Int, expected: String) {
        self.path = path
        self.offset = offset
        self.expected = expected
    }

    package var description: String { "\(path): at byte \(offset): expected \(expected)" }
}

/// The header of a NumPy `.npy` file.
///
/// The format (numpy's `format.py`, versions 1.0, 2.0 and 3.0): the magic `\x93NUMPY`, a
/// major and minor version byte, the header length (2 bytes little-endian in version 1,
/// 4 bytes in versions 2 and 3), then a Python dict literal such as
/// `{'descr': '<u2', 'fortran_order': False, 'shape': (1000,), }` padded with spaces and a
/// newline so the data starts at a multiple of 64 bytes. Version 3 headers are UTF-8,
/// older ones Latin-1. ``parse(_:path:)`` reads the dict with a real literal parser and
/// checks the shape; ``encode(descr:fortranOrder:shape:)`` writes what `numpy.save` writes.
package struct NPYHeader: Equatable, Sendable {
    /// The dtype string, e.g. `<u2`, `|u1`, `<f4`.
    package var descr: String
    /// True when the data is in column-major (Fortran) order.
    package var fortranOrder: Bool
    /// The dimensions; `[]` for a scalar.
    package var shape: [Int]
    /// The major format version (1, 2 or 3).
    package var majorVersion: Int
    /// Where the array data starts in the file.
    package var dataOffset: Int

    package init(descr: String, fortranOrder: Bool = false, shape: [Int], majorVersion: Int = 1, dataOffset: Int = 0) {
        self.descr = descr
        self.fortranOrder = fortranOrder
        self.shape = shape
        self.majorVersion = majorVersion
        self.dataOffset = dataOffset
    }

    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY

    /// Bytes per element of a simple dtype (`<u2` is 2, `|b1` is 1), or nil for a dtype
    /// this codec does not size (structured, strings, datetimes).
    package var itemSize: Int? { Self.itemSize(of: descr) }

    /// The number of elements (the product of the shape; it was checked not to overflow).
    package var elementCount: Int { shape.reduce(1, *) }

    /// Bytes per element of the simple dtype `descr`: a byte-order mark (`<`, `>`, `|`,
    /// `=`), a kind among `b i u f c`, and a size in bytes.
    package static func itemSize(of descr: String) -> Int? {
        var scalars = Substring(descr)
        if let first = scalars.first, "<>|=".contains(first) { scalars = scalars.dropFirst() }
        guard let kind = scalars.first, "biufc".contains(kind), let size = Int(scalars.dropFirst()),
              [1, 2, 4, 8, 16].contains(size) else { return nil }
        return size
    }

    // MARK: - Parsing

    /// Parses the header at the start of `bytes` (the whole file, or at least its header).
    ///
    /// The dict must hold exactly `descr` (a string), `fortran_order` (True or False) and
    /// `shape` (a tuple of non-negative integers), as numpy requires; the shape's element
    /// count, and its byte count where ``itemSize`` is known, must fit in an `Int`.
    /// - Parameter path: names the file in errors.
    /// - Throws: ``NPYFormatError`` with the byte offset of the problem.
    package static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws(NPYFormatError) -> NPYHeader {
        func fail(_ offset: Int, _ expected: String) -> NPYFormatError {
            NPYFormatError(path: path, offset: offset, expected: expected)
        }
        guard bytes.count >= 6, Array(bytes[0..<6]) == magic else {
            throw fail(0, "the NumPy magic \\x93NUMPY (\(bytes.count < 6 ? "file is \(bytes.count) bytes" : "not an .npy file"))")
        }
        guard bytes.count >= 10 else { throw fail(bytes.count, "a version and header length (file is \(bytes.count) bytes)") }
        let major = Int(bytes[6]), minor = Int(bytes[7])
        let headerLength: Int, headerStart: Int
        switch (major, minor) {
        case (1, 0):
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case (2, 0), (3, 0):
            guard bytes.count >= 12 else { throw fail(bytes.count, "a 4-byte header length (file is \(bytes.count) bytes)") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw fail(6, "format version 1.0, 2.0 or 3.0, not \(major).\(minor)")
        }
        guard headerLength <= bytes.count - headerStart else {
            throw fail(headerStart, "a header of \(headerLength) bytes (the file has \(bytes.count - headerStart) after the length)")
        }
        let headerBytes = bytes[headerStart..<(headerStart + headerLength)]
        let text: String
        if major == 3 {
            guard let utf8 = JSONParser.validatedString(Array(headerBytes)) else {
                throw fail(headerStart, "a UTF-8 header (version 3.0)")
            }
            text = utf8
        } else {
            text = String(String.UnicodeScalarView(headerBytes.map { Unicode.Scalar($0) }))  // Latin-1
        }
        var parser = PythonLiteralParser(text: text, path: path, base: headerStart, isLatin1: major != 3)
        let entries = try parser.parseHeaderDict()
        func value(_ key: String) throws(NPYFormatError) -> (value: PythonLiteralParser.Value, offset: Int) {
            guard let entry = entries[key] else { throw fail(headerStart, "a '\(key)' key in the header dict") }
            return entry
        }
        let descrEntry = try value("descr")
        guard case .string(let descr) = descrEntry.value else {
            throw fail(descrEntry.offset, "a dtype string for 'descr' (structured dtypes are not supported)")
        }
        let orderEntry = try value("fortran_order")
        guard case .bool(let fortran) = orderEntry.value else { throw fail(orderEntry.offset, "True or False for 'fortran_order'") }
        let shapeEntry = try value("shape")
        guard case .tuple(let shape) = shapeEntry.value else { throw fail(shapeEntry.offset, "a tuple of integers for 'shape'") }
        for key in entries.keys where !["descr", "fortran_order", "shape"].contains(key) {
            throw fail(entries[key]!.offset, "only the keys 'descr', 'fortran_order' and 'shape', not '\(key)'")
        }
        var count = 1
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw fail(shapeEntry.offset, "a shape whose element count fits in 64 bits, not \(shape)") }
            count = product
        }
        if let size = itemSize(of: descr), count.multipliedReportingOverflow(by: size).overflow {
            throw fail(shapeEntry.offset, "a shape whose byte size fits in 64 bits, not \(shape) of \(descr)")
        }
        return NPYHeader(descr: descr, fortranOrder: fortran, shape: shape, majorVersion: major,
                         dataOffset: headerStart + headerLength)
    }

    /// Parses the header at the start of `bytes`; see ``parse(_:path:)-(UnsafeRawBufferPointer,_)``.
    package static func parse(_ bytes: [UInt8], path: String) throws(NPYFormatError) -> NPYHeader {
        let result: Result<NPYHeader, NPYFormatError> = bytes.withUnsafeBytes { raw in
            Result { () throws(NPYFormatError) in try parse(raw, path: path) }
        }
        return try result.get()
    }

    // MARK: - Encoding

    /// The header `numpy.save` writes for an array of `shape`: the dict with keys sorted,
    /// `21 − digits` spare spaces after it (so a growing axis can be rewritten in place:
    /// the header of a 1-D array has the same length for every count), space padding so
    /// the data starts at a multiple of 64 bytes, and a newline. Version 1.0 unless the
    /// header is longer than 65,535 bytes, then 2.0 (3.0 when `descr` is not Latin-1).
    package static func encode(descr: String, fortranOrder: Bool = false, shape: [Int]) -> [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '\(descr)', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': \(shapeText), }"
        if !shape.isEmpty {
            let growthAxis = fortranOrder ? shape[shape.count - 1] : shape[0]
            dict += String(repeating: " ", count: max(0, 21 - String(growthAxis).count))
        }
        let latin1 = dict.unicodeScalars.allSatisfy { $0.value < 0x100 }
        var body = latin1 ? dict.unicodeScalars.map { UInt8($0.value) } : Array(dict.utf8)
        func padding(prefix: Int) -> Int { 64 - (prefix + body.count + 1) % 64 }  // a full 64 when aligned, as numpy
        var version: UInt8 = latin1 ? 1 : 3
        if version == 1, body.count + 1 + padding(prefix: 10) > 65_535 { version = 2 }
        let prefixLength = version == 1 ? 10 : 12
        body.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padding(prefix: prefixLength)))
        body.append(UInt8(ascii: "\n"))
        var out = magic + [version, 0]
        if version == 1 {
            out += [UInt8(body.count & 0xFF), UInt8(body.count >> 8)]
        } else {
            out += (0..<4).map { UInt8(truncatingIfNeeded: body.count >> (8 * $0)) }
        }
        return out + body
    }
}
