import FableFormats
import FableTokenizer

/// A Fable byte-level BPE vocabulary in the forms Hugging Face `tokenizers` and llama.cpp
/// read: each token as text (GPT-2's byte-to-unicode form, special tokens as themselves),
/// merges as "left right" lines, and the id of `<|endoftext|>` for bos/eos.
public struct TokenizerExport {
    /// The special token that begins and ends documents in Fable's corpora.
    public static let endOfText = "<|endoftext|>"

    /// The vocabulary, special tokens included.
    public let vocabulary: Vocabulary
    /// The text of each token id.
    public let texts: [String]
    /// The ids of the special tokens, in the vocabulary's order.
    public let specialIDs: [(id: Int, text: String)]
    /// The merges as "left right" in byte-level text.
    public let merges: [String]
    /// The id of `<|endoftext|>`, when the vocabulary has it.
    public var endOfTextID: Int? { specialIDs.first { $0.text == Self.endOfText }?.id }

    /// - Parameter source: names the tokenizer in errors.
    /// - Throws: ``InterchangeError/tokenizer(path:reason:)`` when two ids would have the same text.
    public init(vocabulary source: Vocabulary, source path: String) throws(InterchangeError) {
        let vocabulary = source.addingMissingSpecialTokens()
        var specials: [(Int, String)] = []
        var specialByID: [Int: String] = [:]
        for (text, id) in zip(vocabulary.specialTokens, vocabulary.specialTokenIDs()) {
            guard let id else { continue }  // addingMissingSpecialTokens makes this unreachable
            specials.append((id, text))
            specialByID[id] = text
        }
        var texts: [String] = []
        var seen: [String: Int] = [:]
        for (id, bytes) in vocabulary.tokens.enumerated() {
            let text = specialByID[id] ?? ByteLevel.encode(bytes)
            if let other = seen.updateValue(id, forKey: text) {
                throw .tokenizer(path: path, reason: "ids \(other) and \(id) are both written as \(text); a vocabulary file cannot hold both")
            }
            texts.append(text)
        }
        self.vocabulary = vocabulary
        self.texts = texts
        self.specialIDs = specials
        self.merges = vocabulary.merges.map { ByteLevel.encode($0.left) + " " + ByteLevel.encode($0.right) }
    }

    // MARK: - Hugging Face

    /// tokenizer.json for the `tokenizers` library: a BPE model over GPT-2's byte-level
    /// alphabet, the ByteLevel pre-tokenizer (GPT-2's split pattern, no prefix space) and
    /// decoder, and each special token as an added token that is never split.
    package func huggingFaceTokenizer() -> JSONValue {
        let byteLevel: JSONObject = [
            "type": .string("ByteLevel"), "add_prefix_space": .bool(false),
            "trim_offsets": .bool(true), "use_regex": .bool(true),
        ]
        var postProcessor = byteLevel
        postProcessor["trim_offsets"] = .bool(false)
        var vocab = JSONObject()
        for (id, text) in texts.enumerated() { vocab[text] = .int(id) }
        let added: [JSONValue] = specialIDs.map { special in
            .object([
                "id": .int(special.id), "content": .string(special.text),
                "single_word": .bool(false), "lstrip": .bool(false), "rstrip": .bool(false),
                "normalized": .bool(false), "special": .bool(true),
            ])
        }
        let model: JSONObject = [
            "type": .string("BPE"), "dropout": .null, "unk_token": .null,
            "continuing_subword_prefix": .null, "end_of_word_suffix": .null,
            "fuse_unk": .bool(false), "byte_fallback": .bool(false), "ignore_merges": .bool(false),
            "vocab": .object(vocab), "merges": .array(merges.map { .string($0) }),
        ]
        return .object([
            "version": .string("1.0"), "truncation": .null, "padding": .null,
            "added_tokens": .array(added), "normalizer": .null,
            "pre_tokenizer": .object(byteLevel), "post_processor": .object(postProcessor),
            "decoder": .object(byteLevel), "model": .object(model),
        ])
    }

    /// tokenizer_config.json: names `PreTrainedTokenizerFast`, so transformers uses
    /// tokenizer.json as it is (its Llama tokenizer would treat the vocabulary as
    /// SentencePiece pieces), adds no BOS and leaves decoded spaces alone.
    package func huggingFaceTokenizerConfig(contextLength: Int) -> JSONValue {
        var config: JSONObject = [
            "tokenizer_class": .string("PreTrainedTokenizerFast"),
            "model_max_length": .int(contextLength),
            "add_bos_token": .bool(false), "add_eos_token": .bool(false), "add_prefix_space": .bool(false),
            "clean_up_tokenization_spaces": .bool(false),
        ]
        var decoder = JSONObject()
        for special in specialIDs {
            decoder[String(special.id)] = .object([
                "content": .string(special.text), "single_word": .bool(false), "lstrip": .bool(false),
                "rstrip": .bool(false), "normalized": .bool(false), "special": .bool(true),
            ])
        }
        config["added_tokens_decoder"] = .object(decoder)
        if endOfTextID != nil {
            for key in ["bos_token", "eos_token"] { config[key] = .string(Self.endOfText) }
        }
        return .object(config)
    }

    // MARK: - GGUF

    /// llama.cpp's `tokenizer.ggml.*` keys for a GPT-2 style BPE tokenizer, with the token
    /// list padded with unused tokens up to the model's `vocab_size` (llama.cpp sizes the
    /// embedding by the token count).
    /// - Throws: ``InterchangeError/tokenizer(path:reason:)`` when the tokenizer has more
    ///   tokens than the model.
    public func ggufMetadata(modelVocabularySize: Int, source: String) throws(InterchangeError) -> [(String, GGUF.Value)] {
        guard texts.count <= modelVocabularySize else {
            throw .tokenizer(path: source, reason: "it has \(texts.count) tokens but the model's vocab_size is \(modelVocabularySize)")
        }
        let specials = Set(specialIDs.map(\.id))
        var tokens = texts
        var types: [GGUF.Value] = texts.indices.map { .int32(specials.contains($0) ? Self.controlType : Self.normalType) }
        for id in texts.count..<modelVocabularySize {
            tokens.append("[PAD\(id)]")
            types.append(.int32(Self.unusedType))
        }
        var entries: [(String, GGUF.Value)] = [
            ("tokenizer.ggml.model", .string("gpt2")),
            ("tokenizer.ggml.pre", .string("gpt-2")),
            ("tokenizer.ggml.tokens", .strings(tokens)),
            ("tokenizer.ggml.token_type", .array(.int32, types)),
            ("tokenizer.ggml.merges", .strings(merges)),
        ]
        if let id = endOfTextID {
            entries.append(("tokenizer.ggml.bos_token_id", .uint32(UInt32(id))))
            entries.append(("tokenizer.ggml.eos_token_id", .uint32(UInt32(id))))
        }
        entries.append(("tokenizer.ggml.add_bos_token", .bool(false)))
        entries.append(("tokenizer.ggml.add_eos_token", .bool(false)))
        return entries
    }

    /// llama.cpp's token types (`llama_token_type`).
    static let normalType: Int32 = 1
    static let controlType: Int32 = 3
    static let unusedType: Int32 = 5
}
