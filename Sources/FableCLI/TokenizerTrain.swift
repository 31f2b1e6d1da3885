import ArgumentParser
import FableTokenizer
import FableWorkbench
import Foundation

/// `fable tokenizer train`: learns a byte-level BPE vocabulary from a text file.
struct TokenizerTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a byte-level BPE tokenizer (GPT-2 / CS336 semantics) on a text file.",
        discussion: """
            Writes vocab.json and merges.txt (GPT-2's byte-to-unicode form, loadable by \
            Hugging Face's GPT2Tokenizer), special_tokens.txt and a readable listing vocab.txt \
            into the output folder. Invalid UTF-8 is replaced by U+FFFD, as Python does with \
            errors="replace"; the summary says how often.
            """
    )

    @Option(name: .long, help: ArgumentHelp("The UTF-8 text file to train on.", valueName: "file"))
    var input: String

    @Option(name: .customLong("vocab-size"),
            help: ArgumentHelp("Final vocabulary size, counting the 256 bytes and the special tokens.", valueName: "n"))
    var vocabSize: Int

    @Option(name: .customLong("special-token"),
            help: ArgumentHelp("A special token, never merged; repeat for several. Ids follow the given order.",
                               valueName: "token"))
    var specialTokens: [String] = ["<|endoftext|>"]

    @Flag(name: .customLong("no-special-tokens"), help: "Train without any special token.")
    var noSpecialTokens = false

    @Option(name: .long, help: ArgumentHelp("Output folder for the tokenizer files (created if missing).",
                                            valueName: "dir"))
    var out: String

    @Option(name: .long, help: ArgumentHelp("Pre-tokenization threads.", valueName: "n"))
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(name: .customLong("chunk-mib"),
            help: ArgumentHelp("Target chunk size in MiB for streaming pre-tokenization; 0 picks it from the input size.",
                               valueName: "mib"))
    var chunkMiB: Double = 0

    @Flag(name: .long, help: "Print only the summary, no progress.")
    var quiet = false

    func validate() throws {
        if noSpecialTokens && specialTokens != ["<|endoftext|>"] {
            throw ValidationError("--no-special-tokens and --special-token cannot be used together")
        }
        if threads < 1 { throw ValidationError("--threads must be 1 or more, got \(threads)") }
        if chunkMiB < 0 { throw ValidationError("--chunk-mib must be 0 or more, got \(chunkMiB)") }
    }

    func run() throws {
        let specials = noSpecialTokens ? [] : specialTokens
        let chunkSize = chunkMiB > 0 ? max(1, Int(chunkMiB * 1_048_576)) : nil
        let trainer: BPETrainer
        let result: BPETrainingResult
        let display = TokenizerTrainingProgress(enabled: !quiet)
        do {
            defer { display.finish() }
            trainer = try BPETrainer(.init(vocabSize: vocabSize, specialTokens: specials,
                                           threads: threads, chunkSize: chunkSize))
            result = try trainer.train(file: input) { display.update($0) }
        }

        let clock = ContinuousClock()
        let writeStart = clock.now
        let directory = URL(fileURLWithPath: out)
        try result.vocabulary.save(to: directory)
        let writeSeconds = (clock.now - writeStart).fableSeconds

        printSummary(result, writeSeconds: writeSeconds, directory: directory)
    }

    private func printSummary(_ result: BPETrainingResult, writeSeconds: Double, directory: URL) {
        let stats = result.statistics
        let megabytes = Double(stats.inputBytes) / 1_000_000
        let rate = stats.pretokenizeSeconds > 0 ? megabytes / stats.pretokenizeSeconds : 0
        print("trained \(input) -> \(directory.path)")
        print(String(format: "  input:          %.2f MB, %d pre-tokens (%d distinct), %d chunks",
                     megabytes, stats.pretokens, stats.distinctPretokens, stats.chunks))
        if stats.invalidUTF8Replacements > 0 {
            print("  invalid UTF-8:  \(stats.invalidUTF8Replacements) sequences replaced by U+FFFD "
                + "(first at byte offset \(stats.firstInvalidUTF8Offset ?? 0))")
        }
        print(String(format: "  pre-tokenize:   %.3f s (%.1f MB/s, %d threads)", stats.pretokenizeSeconds, rate, threads))
        print(String(format: "  merges:         %.3f s (%d merges)", stats.mergeSeconds, result.vocabulary.merges.count))
        print(String(format: "  write:          %.3f s", writeSeconds))
        print(String(format: "  total:          %.3f s", stats.pretokenizeSeconds + stats.mergeSeconds + writeSeconds))
        print("  peak memory:    \(Self.formatBytes(Self.peakResidentBytes()))")
        print("  vocab size:     \(result.vocabulary.tokens.count)")
        if let longest = result.longestToken {
            let text = String(decoding: longest.bytes, as: UTF8.self)
            let unit = longest.bytes.count == 1 ? "byte" : "bytes"
            print("  longest token:  id \(longest.id), \(longest.bytes.count) \(unit): \(text.debugDescription)")
        }
    }

    /// The process's peak resident set size (getrusage's ru_maxrss: KiB on Linux, bytes on macOS).
    static func peakResidentBytes() -> Int {
        var usage = rusage()
        #if os(Linux)
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        return Int(usage.ru_maxrss) * 1024
        #else
        guard getrusage(RUSAGE_SELF, &usage) == 0 else { return 0 }
        return Int(usage.ru_maxrss)
        #endif
    }

    static func formatBytes(_ bytes: Int) -> String {
        String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }
}

private extension Duration {
    /// This duration in seconds.
    var fableSeconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
    }
}
