import ArgumentParser
import FableFormats
import FableTokenizer
import FableTraining
import FableWorkbench
import Foundation

/// `fable tokenizer encode`: a text file to a token array (.npy or .bin).
struct TokenizerEncode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Encode a text file into a NumPy .npy (or raw .bin) array of token ids.",
        discussion: """
            The file is read in blocks cut between documents (after <|endoftext|>) or, where \
            a document is long, at pre-token boundaries that cannot change the result, and the \
            blocks are encoded in parallel; memory stays bounded whatever the file's size. The \
            ids are exactly those of encoding the whole file at once. Ids are uint16 when the \
            vocabulary fits (numpy.load / numpy.memmap read them), else uint32. The output is \
            written to a temporary file and renamed into place when complete.
            """
    )

    @OptionGroup var source: TokenizerOptions

    @Option(name: .long, help: ArgumentHelp("The UTF-8 text file to encode.", valueName: "file"))
    var input: String

    @Option(name: .long, help: ArgumentHelp("The token array to write: .npy (NumPy) or .bin (raw little-endian ids).",
                                            valueName: "file"))
    var output: String

    @Option(name: .long, help: ArgumentHelp("Encoding threads.", valueName: "n"))
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(name: .long, help: ArgumentHelp("Element type: auto (uint16 when the vocabulary fits), uint16 or uint32.",
                                            valueName: "type"))
    var dtype: String = "auto"

    @Option(name: .customLong("block-kib"), help: ArgumentHelp("Target size of one unit of parallel work, in KiB.",
                                                               valueName: "kib"))
    var blockKiB: Int = 1024

    @Flag(name: .customLong("no-special-tokens"), help: "Encode special-token text as ordinary text.")
    var noSpecialTokens = false

    @Flag(name: .long, help: "Print only the summary, no progress.")
    var quiet = false

    func validate() throws {
        if threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if blockKiB < 1 { throw ValidationError("--block-kib must be at least 1, got \(blockKiB)") }
        if !["auto", "uint16", "uint32"].contains(dtype) {
            throw ValidationError("--dtype must be auto, uint16 or uint32, got \(dtype)")
        }
        if TokenFileFormat(path: output) == nil {
            throw ValidationError("--output \(output): expected a path ending in .npy or .bin")
        }
    }

    func run() throws {
        let tokenizer = try source.load()
        let encoder = TokenFileEncoder(tokenizer: tokenizer, threads: threads, blockBytes: blockKiB * 1024,
                                       specialTokens: !noSpecialTokens)
        let type = dtype == "auto" ? TokenDType.fitting(vocabularySize: tokenizer.vocabularySize) : TokenDType(rawValue: dtype)!
        let interrupt = Self.removePartialOutputOnInterrupt(URL(fileURLWithPath: output))
        defer { interrupt.cancel() }
        var display: ProgressDisplay?
        let summary: TokenFileEncoder.Summary
        do {
            defer { display?.finish() }
            summary = try encoder.encode(input: URL(fileURLWithPath: input), output: URL(fileURLWithPath: output),
                                         dtype: type) { progress in
                // The total is known only once the encoder has looked at the input.
                if display == nil {
                    display = ProgressDisplay(total: progress.totalBytes, label: "encode", unit: .bytes,
                                              style: quiet ? .silent : .automatic)
                }
                display?.update(completed: progress.bytes, fields: ["tokens": HumanFormat.count(Double(progress.tokens))])
            }
        }
        print("encoded \(input) -> \(output)")
        let size = summary.bytes < 1_000_000 ? "\(summary.bytes) bytes" : String(format: "%.2f MB", Double(summary.bytes) / 1e6)
        print("  input:      \(size)"
            + (summary.specialTokens > 0 ? ", \(summary.specialTokens) special tokens (documents)" : ""))
        print(String(format: "  tokens:     %d (%@), %.3f bytes per token", summary.tokens, type.rawValue, summary.bytesPerToken))
        if summary.invalidUTF8Replacements > 0 {
            print("  note:       \(summary.invalidUTF8Replacements) invalid UTF-8 sequences replaced by U+FFFD")
        }
        print(String(format: "  time:       %.3f s, %.1f MB/s with %d thread%@ (encoder CPU time %.3f s)", summary.seconds,
                     summary.megabytesPerSecond, threads, threads == 1 ? "" : "s", summary.encodeSeconds))
    }

    /// On Ctrl-C or SIGTERM, deletes this process's temporary output file (the finished
    /// file only ever appears by rename) and exits with status 130. The signal is caught by
    /// ``InterruptSignal`` (a real handler; the clean-up runs on a background queue).
    static func removePartialOutputOnInterrupt(
        _ output: URL, secondSignalTerminates: Bool = true,
        exit: @escaping @Sendable () -> Void = { Foundation.exit(130) }
    ) -> InterruptSignal {
        InterruptSignal(signals: [SIGINT, SIGTERM], secondSignalTerminates: secondSignalTerminates) {
            removePartialOutput(output)
            FileHandle.standardError.write(Data("\ninterrupted: \(output.path) was not written\n".utf8))
            exit()
        }
    }

    /// Deletes this process's temporary files for `output` (`.NAME.tmp-PID-*` beside it).
    static func removePartialOutput(_ output: URL) {
        let directory = output.deletingLastPathComponent()
        let prefix = AtomicFile.temporaryPrefix(for: output)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names where name.hasPrefix(prefix) {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
    }
}
