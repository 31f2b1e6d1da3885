import FableTensor
import Foundation

// Decoding rules shared by the configuration types (ModelConfig here, the training config in
// FableTraining), so that every decoding failure names its key and what the key accepts.

/// A configuration setting that is one of a few words (`"kind": "adamw"`). Decoding any
/// other word throws a `DecodingError.dataCorrupted` at the key, whose underlying error is
/// an ``InvalidChoice`` listing the words, so messages can offer them.
public protocol ConfigChoice: RawRepresentable, CaseIterable, Codable where RawValue == String {}

extension ConfigChoice {
    public init(from decoder: Decoder) throws {
        let word = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(rawValue: word) else {
            let choice = InvalidChoice(value: word, choices: Self.allCases.map(\.rawValue))
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath, debugDescription: choice.description, underlyingError: choice))
        }
        self = value
    }
}

/// A word that is not one of a setting's choices.
public struct InvalidChoice: Error, Equatable, CustomStringConvertible {
    /// The word found.
    public let value: String
    /// The words the setting accepts, in declaration order.
    public let choices: [String]

    public var description: String { "\"\(value)\" is not one of \(choices.joined(separator: ", "))" }
}

/// The largest whole number a configuration accepts: JSON numbers are read as doubles by
/// many tools (Python's `json` aside), which hold integers exactly only up to 2^53.
public let configWholeNumberLimit = 1 << 53

extension KeyedDecodingContainer {
    /// Decodes a whole number of at most 2^53 in size. Foundation's JSONDecoder reports a
    /// fraction (`512.5`) or an out-of-range number (`1e30`) for an `Int` as invalid JSON
    /// with no key; this throws `DecodingError.typeMismatch(Int.self, ...)` at the key instead.
    public func decodeWholeNumber(forKey key: Key) throws -> Int {
        let value: Int
        do {
            value = try decode(Int.self, forKey: key)
        } catch let error as DecodingError {
            guard case .dataCorrupted = error else { throw error }
            throw notWholeNumber(key)
        } catch {
            // JSONDecoder's own error for a number that is not an integer or does not fit.
            throw notWholeNumber(key)
        }
        guard abs(value) <= configWholeNumberLimit else { throw notWholeNumber(key) }
        return value
    }

    /// ``decodeWholeNumber(forKey:)`` for an optional key (absent or null gives nil).
    public func decodeWholeNumberIfPresent(forKey key: Key) throws -> Int? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        return try decodeWholeNumber(forKey: key)
    }

    private func notWholeNumber(_ key: Key) -> DecodingError {
        let found = (try? decode(Double.self, forKey: key)).map { ", found \($0)" } ?? ""
        return .typeMismatch(Int.self, .init(
            codingPath: codingPath + [key], debugDescription: "expected a whole number from -2^53 to 2^53\(found)"))
    }
}

/// The training config's `precision` key (`"fp32"` or `"bf16"`) decodes like the other
/// word choices.
extension MatmulPrecision: ConfigChoice {}
