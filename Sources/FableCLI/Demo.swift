import ArgumentParser
import FableTensor
import FableTraining
import FableWorkbench

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

    @OptionGroup var threading: ThreadsOption

    func validate() throws {
        if !(minutes.isFinite && minutes >= 0.1 && minutes <= 24 * 60) {
            throw ValidationError("--minutes must be between 0.1 and 1440, got \(minutes)")
        }
        if seed < 0 || seed > TrainingConfig.maxSeed {
            throw ValidationError("--seed must be between 0 and 2^53, got \(seed)")
        }
        if out.isEmpty { throw ValidationError("--out must name a folder") }
    }

    func run() throws {
        try threading.apply()
        let pipeline = DemoPipeline(
            minutes: minutes, corpus: corpus, out: out, seed: seed, threads: threading.threads)
        let outcome = try pipeline.run()
        if outcome == .interrupted { throw ExitCode(130) }
    }
}
