/// An object key compared and hashed by its UTF-8 bytes.
///
/// JSON keys are sequences of code points (RFC 8259 §8.3), so "é" and "e\u{301}" are two
/// keys, whereas Swift's `String` equality and hashing follow canonical equivalence and
/// normalize non-ASCII text first, which is also slow (vocab.json keys are mostly
/// non-ASCII). Duplicate detection and ``JSONObject`` lookups use this key instead.
struct JSONKey: Hashable {
    let text: String

    init(_ text: String) { self.text = text }

    static func == (a: JSONKey, b: JSONKey) -> Bool {
        var a = a.text, b = b.text
        return a.withUTF8 { x in b.withUTF8 { y in x.count == y.count && x.elementsEqual(y) } }
    }

    func hash(into hasher: inout Hasher) {
        var text = text
        text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
