import ArgumentParser
import FableStories
import Foundation

/// `fable corpus`: writes Fable's built-in corpus of generated children's stories.
struct CorpusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corpus",
        abstract: "Write the built-in corpus: short generated children's stories separated by <|endoftext|>.",
        discussion: """
            Stories come from a deterministic generator: the same --seed always writes the same \
            bytes. Each story is followed by a line holding only <|endoftext|>, as in TinyStories.
            """
    )

    @Option(name: .long, help: "How many stories to write.")
    var stories: Int = 20_000

    @Option(name: .long, help: "Seed of the story generator.")
    var seed: UInt64 = 0

    @Option(name: .long, help: "The corpus file to write (replaced if it exists).")
    var out: String = "stories.txt"

    func validate() throws {
        guard stories >= 1 else { throw ValidationError("--stories must be at least 1, got \(stories)") }
    }

    func run() throws {
        let url = URL(fileURLWithPath: out)
        let start = DispatchTime.now().uptimeNanoseconds
        let statistics = try StoryCorpus.write(stories: stories, seed: seed, to: url)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let n = Double(statistics.stories)
        print("wrote \(url.path)")
        print("stories:        \(statistics.stories) (seed \(seed))")
        print("bytes:          \(statistics.bytes) (\(Int((Double(statistics.bytes) / n).rounded())) per story)")
        print("words:          \(statistics.words) (\(Int((Double(statistics.words) / n).rounded())) per story)")
        print("distinct words: \(statistics.distinctWords)")
        print("time:           \(String(format: "%.2f", seconds)) s (\(Int(n / max(seconds, 1e-9))) stories/s)")
    }
}
