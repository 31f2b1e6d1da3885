import ArgumentParser
import FableTokenizer
import Foundation

/// `fable tokenizer stats`: how a tokenizer compresses a text file, and how fast it encodes.
struct TokenizerStats: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Encode a text file and report bytes per token, encoding speed and the tokens used.",
        discussion: """
            Encoding runs as in `fable tokenizer encode` but keeps only counts. The speed line \
            gives the encoder's own throughput per thread (time spent inside the encoder, \
            measured in thread CPU time, excluding reading the file) and the wall-clock \
            throughput; with --repeat the median of the runs is reported.
            """
    )

    @OptionGroup var source: TokenizerOptions

    @Option(name: .long, help: ArgumentHelp("The UTF-8 text file to encode.", valueName: "file"))
    var input: String

    @Option(name: .long, help: ArgumentHelp("Encoding threads.", valueName: "n"))
    var threads: Int = 1

    @Option(name: .long, help: ArgumentHelp("How many tokens each list shows.", valueName: "n"))
    var top: Int = 10

    @Option(name: .long, help: ArgumentHelp("Encode the file this many times and report the median speed.",
                                            valueName: "n"))
    var `repeat`: Int = 1

    @Flag(name: .customLong("no-special-tokens"), help: "Encode special-token text as ordinary text.")
    var noSpecialTokens = false

    func validate() throws {
        if threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if top < 0 { throw ValidationError("--top must be 0 or more, got \(top)") }
        if `repeat` < 1 { throw ValidationError("--repeat must be at least 1, got \(`repeat`)") }
    }

    func run() throws {
        let tokenizer = try source.load()
        let encoder = TokenFileEncoder(tokenizer: tokenizer, threads: threads, specialTokens: !noSpecialTokens)
        var counts = [Int](repeating: 0, count: tokenizer.vocabularySize)
        var summaries: [TokenFileEncoder.Summary] = []
        for run in 0..<`repeat` {
            let counting = run == 0
            summaries.append(try encoder.encode(input: URL(fileURLWithPath: input)) { ids in
                guard counting else { return }
                for id in ids { counts[Int(id)] += 1 }
            })
        }
        let first = summaries[0]
        let perThread = median(summaries.map { $0.encodeSeconds > 0 ? Double($0.bytes) / $0.encodeSeconds / 1e6 : 0 })
        let wall = median(summaries.map(\.megabytesPerSecond))

        print("\(input) with \(source.name) (\(tokenizer.vocabularySize) tokens)")
        print("  bytes:            \(first.bytes)")
        print("  tokens:           \(first.tokens)" + (first.specialTokens > 0 ? " (\(first.specialTokens) special)" : ""))
        print(String(format: "  bytes per token:  %.3f", first.bytesPerToken))
        let used = counts.filter { $0 > 0 }.count
        print(String(format: "  tokens used:      %d of %d (%.1f%%)", used, counts.count, 100 * Double(used) / Double(max(1, counts.count))))
        print(String(format: "  encode speed:     %.1f MB/s per thread (encoder CPU time), %.1f MB/s wall (%d thread%@, median of %d)",
                     perThread, wall, threads, threads == 1 ? "" : "s", `repeat`))
        guard top > 0 else { return }

        let frequent = counts.indices.filter { counts[$0] > 0 }.sorted { (counts[$0], -$0) > (counts[$1], -$1) }.prefix(top)
        print("  most frequent tokens:")
        for id in frequent {
            print(String(format: "    %7d  %9d  %5.2f%%  ", id, counts[id], 100 * Double(counts[id]) / Double(max(1, first.tokens)))
                + Vocabulary.readable(tokenizer.tokenBytes(id)!))
        }
        let length = { (id: Int) in tokenizer.tokenBytes(id)!.count }
        let longestUsed = counts.indices.filter { counts[$0] > 0 }.sorted { (length($0), -$0) > (length($1), -$1) }.prefix(top)
        print("  longest tokens used:")
        for id in longestUsed {
            print(String(format: "    %7d  %3d bytes  %7d times  ", id, length(id), counts[id]) + Vocabulary.readable(tokenizer.tokenBytes(id)!))
        }
        let longest = counts.indices.sorted { (length($0), -$0) > (length($1), -$1) }.prefix(top)
        print("  longest tokens in the vocabulary:")
        for id in longest {
            print(String(format: "    %7d  %3d bytes  ", id, length(id)) + Vocabulary.readable(tokenizer.tokenBytes(id)!))
        }
    }

    private func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }
}
