/// Parses the Python literal a .npy header holds: a dict with string keys whose values are
/// strings, `True`/`False`, or tuples of integers. Anything else (lists for structured
/// dtypes, expressions) is rejected with the byte offset of the problem in the file.
struct PythonLiteralParser {
    enum Value: Equatable {
        case string(String)
        case bool(Bool)
        case tuple([Int])
    }

    private let scalars: [Unicode.Scalar]
    private let path: String
    /// Offset of the literal in the file.
    private let base: Int
    /// True when each scalar is one byte in the file (Latin-1 headers).
    private let isLatin1: Bool
    private var position = 0

    init(text: String, path: String, base: Int, isLatin1: Bool) {
        scalars = Array(text.unicodeScalars)
        self.path = path
        self.base = base
        self.isLatin1 = isLatin1
    }

    /// The file offset of scalar `index`.
    private func fileOffset(_ index: Int) -> Int {
        isLatin1 ? base + index : base + scalars[..<min(index, scalars.count)].reduce(0) { $0 + String($1).utf8.count }
    }

    private func fail(_ expected: String, at index: Int? = nil) -> NPYFormatError {
        let found = position < scalars.count ? "'\(scalars[position].escaped(asASCII: true))'" : "the end of the header"
        return NPYFormatError(path: path, offset: fileOffset(index ?? position), expected: "\(expected) in the header dict, found \(found)")
    }

    private var current: Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

    private mutating func skipSpace() {
        while let scalar = current, scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" { position += 1 }
    }

    private mutating func consume(_ scalar: Unicode.Scalar) -> Bool {
        skipSpace()
        guard current == scalar else { return false }
        position += 1
        return true
    }

    /// The dict's entries with the file offset of each value; the whole header must be the
    /// dict plus trailing spaces and the newline.
    mutating func parseHeaderDict() throws(NPYFormatError) -> [String: (value: Value, offset: Int)] {
        guard consume("{") else { throw fail("'{' opening") }
        var entries: [String: (value: Value, offset: Int)] = [:]
        while true {
            if consume("}") { break }
            skipSpace()
            let keyStart = position
            guard current == "'" || current == "\"" else { throw fail("a quoted key or '}'") }
            let key = try parseString()
            guard consume(":") else { throw fail("':' after the key '\(key)'") }
            skipSpace()
            let valueStart = position
            let value = try parseValue()
            guard entries[key] == nil else { throw fail("no duplicate key '\(key)'", at: keyStart) }
            entries[key] = (value, fileOffset(valueStart))
            if consume(",") { continue }
            guard consume("}") else { throw fail("',' or '}' after the value of '\(key)'") }
            break
        }
        skipSpace()
        guard position == scalars.count else { throw fail("only padding after the dict") }
        return entries
    }

    private mutating func parseValue() throws(NPYFormatError) -> Value {
        skipSpace()
        switch current {
        case "'", "\"": return .string(try parseString())
        case "(": return .tuple(try parseTuple())
        case "T": try expectWord("True"); return .bool(true)
        case "F": try expectWord("False"); return .bool(false)
        default: throw fail("a string, True, False or a tuple")
        }
    }

    private mutating func expectWord(_ word: String) throws(NPYFormatError) {
        let start = position
        for scalar in word.unicodeScalars {
            guard current == scalar else { throw fail(word, at: start) }
            position += 1
        }
        if let next = current, next.properties.isAlphabetic || ("0"..."9").contains(next) || next == "_" {
            throw fail(word, at: start)
        }
    }

    /// A single- or double-quoted string with Python's simple backslash escapes.
    private mutating func parseString() throws(NPYFormatError) -> String {
        let start = position
        let quote = scalars[position]
        position += 1
        var text = String.UnicodeScalarView()
        while true {
            guard let scalar = current, scalar != "\n" else { throw fail("a closing quote for the string", at: start) }
            position += 1
            if scalar == quote { return String(text) }
            guard scalar == "\\" else { text.append(scalar); continue }
            guard let escaped = current else { throw fail("a closing quote for the string", at: start) }
            position += 1
            switch escaped {
            case "\\", "'", "\"": text.append(escaped)
            case "n": text.append("\n")
            case "t": text.append("\t")
            default: throw fail("a simple escape (\\\\, \\', \\\", \\n, \\t)", at: position - 2)
            }
        }
    }

    /// `()`, `(n,)` or `(a, b, ...)` of non-negative integers (Python 2's `L` suffix allowed).
    private mutating func parseTuple() throws(NPYFormatError) -> [Int] {
        position += 1  // (
        var items: [Int] = []
        while true {
            if consume(")") {
                return items
            }
            skipSpace()
            let start = position
            var value = 0
            while let scalar = current, ("0"..."9").contains(scalar) {
                let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(Int(scalar.value - 48))
                guard !overflow1, !overflow2 else { throw fail("a dimension that fits in 64 bits", at: start) }
                value = sum
                position += 1
            }
            guard position > start else { throw fail("a non-negative integer dimension") }
            if current == "L" { position += 1 }
            items.append(value)
            if consume(",") { continue }
            guard consume(")") else { throw fail("',' or ')' in the shape") }
            // `(5)` is the integer 5 in Python, not a tuple.
            guard items.count != 1 else { throw fail("a one-element tuple written '(n,)'", at: start) }
            return items
        }
    }
}
