// GPT-2's reversible map between the 256 byte values and 256 printable unicode characters.
//
// vocab.json and merges.txt store tokens (arbitrary byte strings) as text. GPT-2 maps
// every byte to a visible character first: printable Latin-1 bytes map to themselves,
// the others (control bytes, space, 0x7F-0xA0, 0xAD) to U+0100 onwards, in byte order.
// So a space becomes "Ġ" (U+0120) and a newline "Ċ" (U+010A).

/// GPT-2's byte <-> unicode map (`bytes_to_unicode` in GPT-2's `encoder.py`).
public enum ByteLevel {
    // MARK: - Tables

    /// The character each byte value maps to, indexed by byte.
    public static let byteToScalar: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            if isPrintable(UInt8(byte)) {
                table[byte] = Unicode.Scalar(UInt32(byte))!
            } else {
                table[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// The byte for each scalar value below ``scalarLimit``, or -1 for scalars outside the map.
    private static let scalarToByteTable: [Int16] = {
        var table = [Int16](repeating: -1, count: Int(scalarLimit))
        for (byte, scalar) in byteToScalar.enumerated() {
            table[Int(scalar.value)] = Int16(byte)
        }
        return table
    }()

    /// One past the largest scalar value in the map (U+0143).
    public static let scalarLimit: UInt32 = 256 + 68

    /// The bytes GPT-2 keeps as themselves: `!`..`~`, `¡`..`¬`, `®`..`ÿ`.
    @inline(__always)
    private static func isPrintable(_ byte: UInt8) -> Bool {
        (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
    }

    // MARK: - Conversions

    /// The byte that `scalar` stands for, or nil when the scalar is not in the map.
    @inline(__always)
    public static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        guard scalar.value < scalarLimit else { return nil }
        let byte = scalarToByteTable[Int(scalar.value)]
        return byte < 0 ? nil : UInt8(byte)
    }

    /// The byte-level text form of `bytes`, as written in vocab.json and merges.txt.
    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var scalars = String.UnicodeScalarView()
        for byte in bytes { scalars.append(byteToScalar[Int(byte)]) }
        return String(scalars)
    }

    /// The bytes a byte-level string stands for.
    ///
    /// - Returns: the bytes, or the first character that is not in the map with its offset.
    public static func decode(_ text: String) -> Result<[UInt8], UnmappedCharacter> {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for (offset, scalar) in text.unicodeScalars.enumerated() {
            guard let byte = byte(for: scalar) else {
                return .failure(UnmappedCharacter(scalar: scalar, offset: offset))
            }
            bytes.append(byte)
        }
        return .success(bytes)
    }

    /// A character found in byte-level text that is not one of the 256 mapped characters.
    public struct UnmappedCharacter: Error, Equatable, Sendable {
        /// The character.
        public var scalar: Unicode.Scalar
        /// Its position in the string, counted in unicode scalars.
        public var offset: Int
    }
}
