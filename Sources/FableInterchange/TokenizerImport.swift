import FableFormats
import FableTokenizer
import Foundation

/// Reads a Hugging Face tokenizer.json that describes a GPT-2 style byte-level BPE
/// tokenizer (what ``TokenizerExport`` writes, and GPT-2-like hub tokenizers) into a Fable
/// ``Vocabulary``. Anything Fable's tokenizer would not reproduce exactly (a normalizer,
/// another pre-tokenizer, a prefix space, byte fallback, non-special added tokens) is an
/// error naming the key.
public enum TokenizerImport {
    public static func vocabulary(fromTokenizerJSON url: URL) throws(InterchangeError) -> Vocabulary {
        let root = try JSONFields.read(url)
        let path = url.path
        if root.has("normalizer") {
            throw .invalidValue(path: path, key: "normalizer", value: JSONFields.shortText(root["normalizer"]!),
                                expected: "null (Fable's byte-level BPE does not normalise text)")
        }
        try checkByteLevel(root, key: "pre_tokenizer", requireRegex: true)
        try checkByteLevel(root, key: "decoder", requireRegex: false)

        guard let model = try root.object("model") else { throw .missingKey(path: path, key: "model") }
        guard try model.string("type") == "BPE" else {
            throw .invalidValue(path: path, key: "model.type", value: (try? model.string("type")) ?? "missing", expected: "BPE")
        }
        if try model.bool("byte_fallback") == true {
            throw .invalidValue(path: path, key: "model.byte_fallback", value: "true", expected: "false (byte-level BPE needs no fallback)")
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let affix = try model.string(key), !affix.isEmpty {
                throw .invalidValue(path: path, key: "model.\(key)", value: affix, expected: "empty or null")
            }
        }
        guard let vocab = try model.object("vocab") else { throw .missingKey(path: path, key: "model.vocab") }

        // Special tokens: every added token, which must be special (never split).
        var specials: [(id: Int, text: String)] = []
        for (index, item) in (try root.array("added_tokens") ?? []).enumerated() {
            guard case .object(let members) = item else {
                throw .invalidValue(path: path, key: "added_tokens[\(index)]", value: item.kindDescription, expected: "an object")
            }
            let token = JSONFields(members: members, source: "\(path) (added_tokens[\(index)])")
            guard let text = try token.string("content") else { throw .missingKey(path: token.source, key: "content") }
            guard try token.bool("special") == true else {
                throw .invalidValue(path: path, key: "added_tokens[\(index)].special", value: "false",
                                    expected: "true (Fable has special tokens only; \(text) would be split differently)")
            }
            specials.append((try token.int("id"), text))
        }
        let specialIDs = Dictionary(specials.map { ($0.id, $0.text) }, uniquingKeysWith: { first, _ in first })

        // Tokens by id: the BPE vocab plus added tokens, ids 0..<n with none missing.
        var byID: [Int: [UInt8]] = [:]
        for (text, value) in vocab.members {
            guard let id = value.intValue, id >= 0 else {
                throw .invalidValue(path: path, key: "model.vocab[\(text)]", value: JSONFields.shortText(value), expected: "a token id")
            }
            if let special = specialIDs[id] {
                guard special == text else {
                    throw .tokenizer(path: path, reason: "id \(id) is \(text) in model.vocab but \(special) in added_tokens")
                }
                byID[id] = Array(text.utf8)
                continue
            }
            switch ByteLevel.decode(text) {
            case .success(let bytes):
                if byID.updateValue(bytes, forKey: id) != nil {
                    throw .tokenizer(path: path, reason: "id \(id) appears twice in model.vocab")
                }
            case .failure(let unmapped):
                throw .tokenizer(path: path, reason: "model.vocab token \(text) (id \(id)) is not in GPT-2's byte-level form: "
                    + "U+\(String(unmapped.scalar.value, radix: 16, uppercase: true)) is not one of its 256 characters")
            }
        }
        for (id, text) in specialIDs where byID[id] == nil { byID[id] = Array(text.utf8) }
        var tokens: [[UInt8]] = []
        tokens.reserveCapacity(byID.count)
        for id in 0..<byID.count {
            guard let bytes = byID[id] else { throw .tokenizer(path: path, reason: "no token has id \(id) (ids must run from 0 to \(byID.count - 1))") }
            tokens.append(bytes)
        }

        let merges = try readMerges(model, path: path)
        let specialTexts = specials.sorted { $0.id < $1.id }.map(\.text)
        let vocabulary = Vocabulary(tokens: tokens, mergePairs: merges, specialTokens: specialTexts)
        do { _ = try Tokenizer(vocabulary: vocabulary) } catch {
            throw .tokenizer(path: path, reason: "\(error)")
        }
        return vocabulary
    }

    /// Merges as "left right" strings (tokenizers before 0.20) or [left, right] pairs.
    static func readMerges(_ model: JSONFields, path: String) throws(InterchangeError) -> [MergePair] {
        var merges: [MergePair] = []
        for (rank, item) in (try model.array("merges") ?? []).enumerated() {
            var sides: [String] = []
            switch item {
            case .string(let line): sides = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            case .array(let pair): sides = pair.compactMap(\.stringValue)
            default: break
            }
            guard sides.count == 2, !sides[0].isEmpty, !sides[1].isEmpty else {
                throw .invalidValue(path: path, key: "model.merges[\(rank)]", value: JSONFields.shortText(item),
                                    expected: "\"left right\" or [\"left\", \"right\"]")
            }
            guard case .success(let left) = ByteLevel.decode(sides[0]), case .success(let right) = ByteLevel.decode(sides[1]) else {
                throw .tokenizer(path: path, reason: "merge \(rank) (\(sides[0]) \(sides[1])) is not in GPT-2's byte-level form")
            }
            merges.append(MergePair(left, right))
        }
        return merges
    }

    /// `key` must be a ByteLevel component (alone, or the only one of a Sequence) with no
    /// prefix space and, for the pre-tokenizer, GPT-2's split pattern.
    static func checkByteLevel(_ root: JSONFields, key: String, requireRegex: Bool) throws(InterchangeError) {
        guard var component = try root.object(key) else {
            throw .invalidValue(path: root.source, key: key, value: "null", expected: "a ByteLevel \(key)")
        }
        if try component.string("type") == "Sequence" {
            let items = try component.array(key == "decoder" ? "decoders" : "pretokenizers") ?? []
            guard items.count == 1, case .object(let only) = items[0] else {
                throw .invalidValue(path: root.source, key: key, value: "a Sequence of \(items.count)", expected: "a single ByteLevel \(key)")
            }
            component = JSONFields(members: only, source: component.source)
        }
        guard try component.string("type") == "ByteLevel" else {
            throw .invalidValue(path: root.source, key: "\(key).type", value: (try? component.string("type")) ?? "missing",
                                expected: "ByteLevel (GPT-2's byte-level scheme, the one Fable implements)")
        }
        if try component.bool("add_prefix_space") == true, key == "pre_tokenizer" {
            throw .invalidValue(path: root.source, key: "\(key).add_prefix_space", value: "true", expected: "false (Fable adds no prefix space)")
        }
        if requireRegex, try component.bool("use_regex") == false {
            throw .invalidValue(path: root.source, key: "\(key).use_regex", value: "false", expected: "true (GPT-2's split pattern)")
        }
    }
}
