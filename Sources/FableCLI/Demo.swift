import ArgumentParser
import FableTensor
import FableTraining
import FableWorkbench
import Foundation

/// `fable demo`: the whole pipeline out of the box, in a few minutes on a laptop CPU.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "The whole pipeline in a few minutes: corpus, tokenizer, data, a model sized to the time budget, "
            + "training, report and stories.",
        discussion: """
            1. corpus: the built-in generated stories, or --corpus FILE
            2. splits: one document in 20 held out for validation
            3. tokenizer: byte-level BPE, 2,048 tokens with <|endoftext|>
            4. data: both splits encoded to .npy; the unigram baseline
            5. model: a few steps of each candidate size timed; the largest
               that trains well in --minutes is chosen
            6. training: AdamW, warmup and cosine decay, a live progress line
            7. the HTML report, and stories from a few prompts

            Every file lands in --out, in the layout the other commands use:

              DIR/corpus.txt             the corpus (without --corpus)
              DIR/tokenizer/             vocab.json, merges.txt, ...
              DIR/data/                  {train,val}.txt and .npy
              DIR/run/                   config.json, metrics.jsonl,
                                         checkpoints/ (as fable train)
              DIR/report/index.html      learning curves (fable report)
              DIR/samples.txt            the stories
              DIR/demo.json              settings and results

            A folder that holds an earlier demo is replaced; any other \
            non-empty folder is refused. Ctrl-C during training stops after \
            the current step, saves a checkpoint and still writes the report \
            and the stories.
            """
    )

    @Option(help: ArgumentHelp("Training time budget in minutes; the steps before and after take about one more.",
                               valueName: "m"))
    var minutes: Double = 4

    @Option(help: ArgumentHelp(
        "A UTF-8 text corpus, documents separated by <|endoftext|>; its first \(DemoPipeline.corpusCapMiB) MiB are used. "
            + "(default: the built-in generated stories)", valueName: "file"))
    var corpus: String?

    @Option(help: ArgumentHelp("The folder for every file of the demo.", valueName: "dir"))
    var out: String = "fable-demo"

    @Option(help: ArgumentHelp("Seed of the corpus, the weights, the batch order and the stories.", valueName: "s"))
    var seed: Int = 0

    @Option(help: ArgumentHelp("Worker threads. (default: FABLE_THREADS or every core)", valueName: "n"))
    var threads: Int?

    func validate() throws {
        if !(minutes.isFinite && minutes >= 0.1 && minutes <= 24 * 60) {
            throw ValidationError("--minutes must be between 0.1 and 1440, got \(minutes)")
        }
        if seed < 0 || seed > TrainingConfig.maxSeed {
            throw ValidationError("--seed must be between 0 and 2^53, got \(seed)")
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if out.isEmpty { throw ValidationError("--out must name a folder") }
    }

    func run() throws {
        let threadCount = threads ?? Parallel.defaultThreadCount()
        Parallel.threadCount = threadCount
        let pipeline = DemoPipeline(
            minutes: minutes, corpus: corpus, out: out, seed: seed, threads: threadCount)
        let outcome = try pipeline.run()
        if outcome == .interrupted { throw ExitCode(130) }
    }
}

/// The demo's state from step to step: paths, what each step made, and timings.
final class DemoPipeline {
    // MARK: - Settings

    /// The most of a --corpus file the demo reads: a few minutes of training use far less.
    static let corpusCapMiB = 32
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
    enum Outcome: Equatable {
        case finished, interrupted, diverged
    }

    init(minutes: Double, corpus: String?, out: String, seed: Int, threads: Int) {
        self.minutes = minutes
        self.corpusPath = corpus
        self.seed = seed
        self.threads = threads
        self.layout = DemoLayout(out)
        self.started = clock.now
    }

    // MARK: - The steps

    /// Runs every step, printing one line per step, the training progress and the stories.
    func run() throws -> Outcome {
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
