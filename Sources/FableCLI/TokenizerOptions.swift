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
        "A special token for --vocab/--merges; repeat for several.", valueName: "token"))
    var specialTokens: [String] = ["<|endoftext|>"]

    func validate() throws {
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
                throw CommandFailure("--tokenizer \(directory): not a directory (expected vocab.json and merges.txt inside)")
            }
            return try Tokenizer.load(from: URL(fileURLWithPath: directory))
        }
        return try Tokenizer.load(vocabJSON: URL(fileURLWithPath: vocab!), merges: URL(fileURLWithPath: merges!),
                                  specialTokens: specialTokens)
    }

    /// How the tokenizer is named in summaries.
    var name: String { tokenizer ?? "\(vocab ?? "") + \(merges ?? "")" }
}
