import ArgumentParser
import FableTokenizer
import FableWorkbench
import Foundation

/// The options that pick a tokenizer: a tokenizer directory, or GPT-2 style vocab.json and
/// merges.txt files given one by one.
struct TokenizerOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "A tokenizer directory (vocab.json, merges.txt, special_tokens.txt), as `fable tokenizer train` writes it.",
        valueName: "dir"))
    var tokenizer: String?

    @Option(name: .long, help: ArgumentHelp(
        "A GPT-2 style vocab.json, instead of --tokenizer (use with --merges).", valueName: "file"))
    var vocab: String?

    @Option(name: .long, help: ArgumentHelp(
        "A GPT-2 style merges.txt, instead of --tokenizer (use with --vocab).", valueName: "file"))
    var merges: String?

    @Option(name: .customLong("special-token"), help: ArgumentHelp(
        "A special token for --vocab/--merges; repeat for several. (default: <|endoftext|>; a --tokenizer folder "
            + "lists its own in special_tokens.txt)", valueName: "token"))
    var givenSpecialTokens: [String] = []

    /// The special tokens for --vocab/--merges.
    var specialTokens: [String] { givenSpecialTokens.isEmpty ? ["<|endoftext|>"] : givenSpecialTokens }

    func validate() throws {
        if tokenizer != nil && !givenSpecialTokens.isEmpty {
            throw ValidationError("--special-token is for --vocab/--merges; a --tokenizer folder's special tokens are "
                + "the ones in its special_tokens.txt (edit that file to change them)")
        }
        switch (tokenizer, vocab, merges) {
        case (.some, nil, nil), (nil, .some, .some): return
        case (.some, _, _): throw ValidationError("give either --tokenizer or --vocab with --merges, not both")
        case (nil, .some, nil), (nil, nil, .some): throw ValidationError("--vocab and --merges go together")
        case (nil, nil, nil): throw ValidationError("missing --tokenizer <dir> (or --vocab <file> --merges <file>)")
        }
    }

    /// Loads the tokenizer the options name.
    func load() throws -> Tokenizer {
        if let directory = tokenizer {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                // Found at run time: a plain failure, not a usage error (no usage text, exit 1).
                throw CommandFailure("--tokenizer \(directory): not a directory (expected vocab.json and merges.txt inside)")
            }
            let url = URL(fileURLWithPath: directory)
            let vocabulary = try Vocabulary.load(from: url)
            if !FileManager.default.fileExists(atPath: url.appendingPathComponent(Vocabulary.specialTokensFileName).path) {
                printWarning("\(directory) has no \(Vocabulary.specialTokensFileName): no special tokens, so "
                    + "<|endoftext|> in the text is encoded as ordinary text")
            }
            return try Self.warningAboutAddedSpecials(vocabulary, source: url.appendingPathComponent(Vocabulary.vocabFileName).path)
        }
        try requirePath(vocab!, option: "--vocab")
        try requirePath(merges!, option: "--merges")
        let vocabulary = try Vocabulary.load(vocabJSON: URL(fileURLWithPath: vocab!), merges: URL(fileURLWithPath: merges!),
                                             specialTokens: specialTokens)
        return try Self.warningAboutAddedSpecials(vocabulary, source: vocab!)
    }

    /// The tokenizer, after warning about special tokens vocab.json lacks: they get new
    /// ids after the last one, which a model trained with this vocab.json never saw.
    private static func warningAboutAddedSpecials(_ vocabulary: Vocabulary, source: String) throws -> Tokenizer {
        let known = Set(vocabulary.tokens)
        var next = vocabulary.count
        for special in vocabulary.specialTokens where !known.contains(Array(special.utf8)) {
            printWarning("special token \(special) is not in \(source); it gets the new id \(next)")
            next += 1
        }
        return try Tokenizer(vocabulary: vocabulary)
    }

    /// How the tokenizer is named in summaries.
    var name: String { tokenizer ?? "\(vocab ?? "") + \(merges ?? "")" }
}
