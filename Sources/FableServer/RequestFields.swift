import FableFormats
import Foundation

/// A request body's top-level object with typed, range-checked getters; every failure is
/// an ``APIError`` (400) naming the field.
struct RequestFields {
    let values: JSONObject

    /// Parses `body` with FableFormats' strict ``JSONParser``; anything but a JSON object is
    /// an error (the parser's message names the line and column).
    init(body: Data) throws(APIError) {
        guard !body.isEmpty else { throw .invalidJSON("the body is empty") }
        let value: JSONValue
        do {
            value = try JSONParser.parse(body)
        } catch {
            throw .invalidJSON("\(error)")
        }
        guard case let .object(values) = value else {
            throw .invalidJSON("expected an object at the top level, got \(value.kindDescription)")
        }
        self.values = values
    }

    init(values: JSONObject) { self.values = values }

    /// The value of `name`, nil when absent or null.
    subscript(name: String) -> JSONValue? {
        guard let value = values[name], value != .null else { return nil }
        return value
    }

    func bool(_ name: String) throws(APIError) -> Bool? {
        guard let value = self[name] else { return nil }
        guard case let .bool(flag) = value else { throw .invalidField(name, "must be a boolean, got \(value.kindDescription)") }
        return flag
    }

    func string(_ name: String) throws(APIError) -> String? {
        guard let value = self[name] else { return nil }
        guard case let .string(text) = value else { throw .invalidField(name, "must be a string, got \(value.kindDescription)") }
        return text
    }

    /// An integer in `range` (a number with a fraction is an error).
    func integer(_ name: String, in range: ClosedRange<Int>) throws(APIError) -> Int? {
        guard let value = self[name] else { return nil }
        let outOfRange = APIError.invalidField(name, "is \(value.jsonText); expected an integer in \(range.lowerBound)...\(range.upperBound)")
        let integer: Int
        switch value {
        case let .number(.integer(v)): integer = Int(v)
        case .number(.unsigned): throw outOfRange
        case let .number(.double(v)) where v.rounded() == v && abs(v) < 9e18: integer = Int(v)
        case let .number(.double(v)): throw .invalidField(name, "must be an integer, got \(v)")
        default: throw .invalidField(name, "must be an integer, got \(value.kindDescription)")
        }
        guard range.contains(integer) else { throw outOfRange }
        return integer
    }

    /// A finite number in `range`; `openBelow` excludes the lower bound.
    func number(_ name: String, in range: ClosedRange<Double>, openBelow: Bool = false) throws(APIError) -> Double? {
        guard let value = self[name] else { return nil }
        guard let number = value.doubleValue, number.isFinite else {
            throw .invalidField(name, "must be a number, got \(value.kindDescription)")
        }
        let inside = range.contains(number) && !(openBelow && number == range.lowerBound)
        guard inside else {
            let lower = openBelow ? "(" : "["
            throw .invalidField(name, "is \(number); expected a number in \(lower)\(range.lowerBound), \(range.upperBound)]")
        }
        return number
    }

    /// `stop`: a string or an array of up to `limit` non-empty strings.
    func stopSequences(_ name: String, limit: Int) throws(APIError) -> [String] {
        guard let value = self[name] else { return [] }
        var stops: [String]
        switch value {
        case let .string(text): stops = [text]
        case let .array(items):
            stops = []
            for item in items {
                guard case let .string(text) = item else {
                    throw .invalidField(name, "must be a string or an array of strings, found \(item.kindDescription) in the array")
                }
                stops.append(text)
            }
        default: throw .invalidField(name, "must be a string or an array of strings, got \(value.kindDescription)")
        }
        if stops.count > limit { throw .invalidField(name, "has \(stops.count) sequences; at most \(limit) are allowed") }
        if stops.contains(where: \.isEmpty) { throw .invalidField(name, "must not contain an empty string") }
        return stops
    }
}
