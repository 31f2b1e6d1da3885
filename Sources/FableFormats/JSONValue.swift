/// A parsed JSON value (RFC 8259) that loses nothing a Fable file needs.
///
/// Objects keep their keys in file order (``JSONObject``), integers stay exact over the
/// whole `Int64` and `UInt64` range (``JSONNumber``), and doubles are kept as the nearest
/// `Double`, which ``JSONWriter`` writes back in the shortest form that reads back exactly.
/// ``JSONParser`` reads it and ``JSONWriter`` writes it.
package enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    // MARK: - Accessors

    /// The number as a `Double` (integers converted, possibly rounded), or nil for any
    /// other kind of value.
    package var doubleValue: Double? {
        if case .number(let n) = self { return n.doubleValue }
        return nil
    }

    /// The number as an `Int` when it is an integer in range, or a finite integral double
    /// below 2^53 in magnitude (exact in a `Double`); nil otherwise.
    package var intValue: Int? {
        if case .number(let n) = self { return n.intValue }
        return nil
    }

    /// The string, or nil for any other kind of value.
    package var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The Boolean, or nil for any other kind of value.
    package var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The items of an array, or nil for any other kind of value.
    package var arrayValue: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    /// The members of an object, or nil for any other kind of value.
    package var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// A short name of the kind of value, for error messages ("a number", "a string").
    package var kindDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// Nested objects flattened to dotted keys (`{"optimizer":{"lr":1}}` gives
    /// `optimizer.lr`); arrays and scalars are leaves. A non-object value flattens to `[:]`.
    package var flattened: [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        func visit(_ value: JSONValue, prefix: String) {
            if case .object(let members) = value {
                for (key, member) in members {
                    visit(member, prefix: prefix.isEmpty ? key : prefix + "." + key)
                }
            } else if !prefix.isEmpty {
                result[prefix] = value
            }
        }
        visit(self, prefix: "")
        return result
    }

    /// Compact JSON text (no spaces, keys in object order). Non-finite numbers are written
    /// as Python's `NaN`, `Infinity` and `-Infinity`, so the text reads back with
    /// ``JSONParser/Options/allowNonFiniteNumbers``.
    package var jsonText: String {
        var writer = JSONWriter(style: .compact, allowNonFiniteNumbers: true)
        // Cannot throw: non-finite numbers are allowed.
        try? writer.value(self)
        return writer.text
    }
}

// MARK: - Numbers

/// A JSON number: an exact integer when the text has no fraction or exponent, else a double.
package enum JSONNumber: Equatable, Sendable, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral {
    /// An integer in `Int64`'s range.
    case integer(Int64)
    /// An integer above `Int64.max` (up to `UInt64.max`).
    case unsigned(UInt64)
    /// A number written with a fraction or exponent (or NaN / Infinity when allowed).
    case double(Double)

    package init(integerLiteral value: Int64) { self = .integer(value) }
    package init(floatLiteral value: Double) { self = .double(value) }

    /// The value as a `Double` (large integers rounded to the nearest).
    package var doubleValue: Double {
        switch self {
        case .integer(let i): return Double(i)
        case .unsigned(let u): return Double(u)
        case .double(let x): return x
        }
    }

    /// The value as an `Int` when it is an integer in range, or an integral double whose
    /// magnitude is at most 2^53 (where every integer is exact); nil otherwise.
    package var intValue: Int? {
        switch self {
        case .integer(let i): return Int(exactly: i)
        case .unsigned(let u): return Int(exactly: u)
        case .double(let x):
            guard x.isFinite, x.rounded() == x, abs(x) <= 9_007_199_254_740_992 else { return nil }
            return Int(x)
        }
    }

    /// Integers compare exactly; a double equals an integer only when it has exactly that
    /// value (as in Python, `1 == 1.0`); NaN equals nothing.
    package static func == (a: JSONNumber, b: JSONNumber) -> Bool {
        switch (a, b) {
        case let (.integer(x), .integer(y)): return x == y
        case let (.unsigned(x), .unsigned(y)): return x == y
        case let (.integer(x), .unsigned(y)), let (.unsigned(y), .integer(x)): return x >= 0 && UInt64(x) == y
        case let (.double(x), .double(y)): return x == y
        case let (.double(x), .integer(i)), let (.integer(i), .double(x)): return Int64(exactly: x) == i
        case let (.double(x), .unsigned(u)), let (.unsigned(u), .double(x)): return UInt64(exactly: x) == u
        }
    }
}

// MARK: - Objects

/// The members of a JSON object in the order they were read or added, with keys unique.
///
/// Reads by key are hash lookups on the key's UTF-8 bytes (code points, as RFC 8259
/// compares keys, not Swift's canonical equivalence); setting a new key appends it,
/// setting an existing key replaces its value in place, setting nil removes it. Two objects are equal when they
/// hold the same keys with equal values, in any order (RFC 8259 objects are unordered).
package struct JSONObject: Equatable, Sendable, RandomAccessCollection, ExpressibleByDictionaryLiteral {
    /// One key and its value.
    package typealias Element = (key: String, value: JSONValue)

    private var storage: [Element] = []
    private var positions: [JSONKey: Int] = [:]

    /// An empty object.
    package init() {}

    /// An object of `members` in order. A repeated key keeps its first position and the
    /// last value (use ``JSONParser`` to reject duplicates in files).
    package init<S: Sequence>(_ members: S) where S.Element == Element {
        for (key, value) in members { self[key] = value }
    }

    package init(dictionaryLiteral elements: (String, JSONValue)...) {
        for (key, value) in elements { self[key] = value }
    }

    package var startIndex: Int { 0 }
    package var endIndex: Int { storage.count }
    package subscript(position: Int) -> Element { storage[position] }

    /// The keys in order.
    package var keys: [String] { storage.map(\.key) }

    /// The value for `key`; setting nil removes the key.
    package subscript(key: String) -> JSONValue? {
        get { positions[JSONKey(key)].map { storage[$0].value } }
        set {
            if let index = positions[JSONKey(key)] {
                if let newValue {
                    storage[index].value = newValue
                } else {
                    storage.remove(at: index)
                    positions[JSONKey(key)] = nil
                    for i in index..<storage.count { positions[JSONKey(storage[i].key)] = i }
                }
            } else if let newValue {
                positions[JSONKey(key)] = storage.count
                storage.append((key, newValue))
            }
        }
    }

    /// Appends a member whose key is not present yet; returns false (and changes nothing)
    /// when it is. The parser uses this to reject duplicate keys.
    package mutating func appendIfAbsent(_ key: String, _ value: JSONValue) -> Bool {
        // One hash lookup through the dictionary's in-place access.
        let index = storage.count
        let inserted = Self.fillIfEmpty(&positions[JSONKey(key)], with: index)
        if inserted { storage.append((key, value)) }
        return inserted
    }

    private static func fillIfEmpty(_ slot: inout Int?, with index: Int) -> Bool {
        guard slot == nil else { return false }
        slot = index
        return true
    }

    /// The members as a dictionary (order dropped).
    package var dictionary: [String: JSONValue] {
        Dictionary(storage.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    package static func == (a: JSONObject, b: JSONObject) -> Bool {
        guard a.count == b.count else { return false }
        return a.storage.allSatisfy { b[$0.key] == $0.value }
    }
}
