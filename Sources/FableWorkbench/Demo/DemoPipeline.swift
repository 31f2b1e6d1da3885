import FableTensor
import FableTraining
import Foundation

/// The demo's state from step to step: paths, what each step made, and timings.
package final class DemoPipeline {
    // MARK: - Settings

    /// The most of a --corpus file the demo reads: a few minutes of training use far less.
    package static let corpusCapMiB = 32
    /// Stories of the built-in corpus per minute of training budget (about 200K tokens each).
    static let storiesPerMinute = 5_000
    /// The tokenizer's vocabulary, <|endoftext|> included.
    static let vocabularySize = 2_048
    /// One document in this many is held out for validation.
    static let validationEvery = 20
    /// The prompts of the closing stories.
    static let prompts = ["Once upon a time", "Tom and his dog", "One day, Lily found"]
    /// Sampling for the closing stories.
    static let temperature: Float = 0.8
    static let topP: Float = 0.95
    static let storyTokens = 400

    let minutes: Double
    let corpusPath: String?
    let seed: Int
    let threads: Int
    let layout: DemoLayout
    let clock = ContinuousClock()
    let started: ContinuousClock.Instant

    /// How the demo ended.
    package enum Outcome: Equatable {
        case finished, interrupted, diverged
    }

    package init(minutes: Double, corpus: String?, out: String, seed: Int, threads: Int) {
        self.minutes = minutes
        self.corpusPath = corpus
        self.seed = seed
        self.threads = threads
        self.layout = DemoLayout(out)
        self.started = clock.now
    }

    // MARK: - The steps

    /// Runs every step, printing one line per step, the training progress and the stories.
    package func run() throws -> Outcome {
        let budget = minutes * 60
        printNow(["Fable demo: corpus, tokenizer, data, model, \(HumanFormat.duration(budget)) of training, report "
            + "and stories, with \(threads) thread\(threads == 1 ? "" : "s"), into \(layout.display(layout.root))", ""])
        // A bad --corpus is reported before anything is written.
        if let corpusPath { try CorpusSplitter.inspect(URL(fileURLWithPath: corpusPath)) }
        try prepareFolder()
        var summary = DemoSummary(minutes: minutes, seed: seed, threads: threads, corpus: corpusPath)
        try writeSummary(summary)

        let corpus = try makeCorpus()
        summary.corpusBytes = corpus.bytes
        let split = try splitCorpus(corpus.url)
        let tokenizer = try trainTokenizer()
        let data = try encodeSplits(tokenizer, split: split)
        summary.data = data.record
        try writeSummary(summary)

        let training = try train(data: data, budget: budget)
        summary.training = training.record
        summary.training?.valBitsPerByte = training.evaluation.map { data.bitsPerByte($0.loss) }
        try writeSummary(summary)

        let report = try writeReport()
        printResults(training, data: data)
        let stories = try tellStories(model: training.trainer.model, tokenizer: tokenizer)
        summary.report = report.map { layout.display($0) }
        summary.stories = stories
        summary.totalSeconds = elapsed(since: started)
        try writeSummary(summary)
        printFollowUps(training)
        switch training.result.outcome {
        case .finished: return .finished
        case .interrupted: return .interrupted
        case .diverged: return .diverged
        }
    }

    // MARK: - Printing

    /// One step's line: a name column, what was done, and how long it took.
    func printStep(_ name: String, _ text: String, seconds: Double? = nil) {
        let padded = name.padding(toLength: 10, withPad: " ", startingAt: 0)
        let time = seconds.map { "  (\(Self.seconds($0)))" } ?? ""
        printNow([padded + text + time])
    }

    /// A continuation line under a step's line.
    func printDetail(_ text: String) {
        printNow([String(repeating: " ", count: 10) + text])
    }

    static func seconds(_ value: Double) -> String {
        if value < 0.01 { return "<0.01 s" }
        return value < 60 ? HumanFormat.significant(value, digits: 2) + " s" : HumanFormat.duration(value)
    }

    /// `n` with thousands separators: 20,000.
    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// "1 step", "2 steps".
    static func plural(_ n: Int, _ unit: String) -> String {
        "\(grouped(n)) \(unit)\(n == 1 ? "" : "s")"
    }

    func elapsed(since instant: ContinuousClock.Instant) -> Double {
        let d = clock.now - instant
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    /// Times `body`.
    func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
        let start = clock.now
        let value = try body()
        return (value, elapsed(since: start))
    }
}
