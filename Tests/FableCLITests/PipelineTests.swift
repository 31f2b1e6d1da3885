import ArgumentParser
import FableTestSupport
import FableTraining
import Foundation
import Testing
@testable import FableCLI

/// Parses `arguments` as `fable ARGUMENTS` would and runs the command in this process.
func runFable(_ arguments: [String]) throws {
    var command = try Fable.parseAsRoot(arguments)
    try command.run()
}

/// The message `fable` prints for the error `arguments` raise (parsing or running), or nil
/// when the command succeeds.
func fableError(_ arguments: [String]) -> String? {
    do {
        try runFable(arguments)
        return nil
    } catch {
        return Fable.message(for: error)
    }
}

@Suite("fable commands in-process", .serialized)
struct PipelineTests {
    @Test("corpus -> tokenizer train -> encode -> train 5 steps -> generate, in a temporary folder")
    func endToEnd() throws {
        let folder = TemporaryFolder("fable-cli-tests")
        func path(_ name: String) -> String { folder.url.appendingPathComponent(name).path }

        try runFable(["corpus", "--stories", "200", "--seed", "3", "--out", path("stories.txt")])
        let corpus = try String(contentsOfFile: path("stories.txt"), encoding: .utf8)
        #expect(corpus.components(separatedBy: "<|endoftext|>").count - 1 == 200)

        try runFable(["tokenizer", "train", "--input", path("stories.txt"), "--vocab-size", "300",
                      "--out", path("tokenizer"), "--quiet"])
        for file in ["vocab.json", "merges.txt"] {
            #expect(FileManager.default.fileExists(atPath: path("tokenizer/" + file)))
        }

        #expect(fableError(["tokenizer", "encode", "--tokenizer", path("tokenizer"), "--input", path("nothere.txt"),
                            "--output", path("nothere.npy")])
            == "\(path("nothere.txt")): cannot open (No such file or directory)")
        #expect(!FileManager.default.fileExists(atPath: path("nothere.npy")))
        try runFable(["tokenizer", "encode", "--tokenizer", path("tokenizer"), "--input", path("stories.txt"),
                      "--output", path("tokens.npy"), "--quiet"])
        let tokens = try TokenDataset(url: URL(fileURLWithPath: path("tokens.npy")))
        #expect(tokens.count > 1000)
        #expect(tokens.maxTokenID() < 300)

        try runFable(["train", "--preset", "cpu-small", "--train", path("tokens.npy"), "--out", path("run"), "--quiet",
                      "--set", "steps=5", "--set", "batch_size=2", "--set", "model.vocab_size=300",
                      "--set", "model.context_length=16", "--set", "model.d_model=16", "--set", "model.num_layers=1",
                      "--set", "model.num_heads=2", "--set", "model.d_ff=32", "--set", "eval_interval=0",
                      "--set", "schedule.warmup_steps=1"])
        let run = RunDirectory(URL(fileURLWithPath: path("run")))
        let checkpoint = try #require(run.latestCheckpoint())
        #expect(checkpoint.lastPathComponent == "step_000005.safetensors")
        let log = try MetricsLog.read(run.metricsURL)
        #expect(log.records.last?.step == 5)

        try runFable(["generate", "--checkpoint", checkpoint.path, "--tokenizer", path("tokenizer"),
                      "--prompt", "Once upon a time", "--max-tokens", "8", "--seed", "1"])
        // Without --tokenizer, a checkpoint that names none is refused with its path in the message.
        #expect(fableError(["generate", "--checkpoint", checkpoint.path, "--max-tokens", "2"])
            == "\(checkpoint.path) names no tokenizer; give --tokenizer DIR")
    }
}
