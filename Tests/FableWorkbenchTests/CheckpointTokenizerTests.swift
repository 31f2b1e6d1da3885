import FableTestSupport
import FableTokenizer
import Foundation
import Testing
@testable import FableWorkbench

@Suite("CheckpointTokenizer: the tokenizer that goes with a checkpoint")
struct CheckpointTokenizerTests {
    /// A run folder as `fable demo` writes it: tokenizer/ beside run/checkpoints/.
    func makeRun() throws -> (folder: TemporaryFolder, checkpoint: String) {
        let folder = TemporaryFolder("fable-checkpoint-tokenizer")
        let tokenizer = try BPETrainer(.init(vocabSize: 258, specialTokens: ["<|endoftext|>"]))
            .train(text: "the cat sat on the mat. the cat sat.")
        try tokenizer.vocabulary.save(to: folder.url.appendingPathComponent("tokenizer"))
        let checkpoints = folder.url.appendingPathComponent("checkpoints")
        try FileManager.default.createDirectory(at: checkpoints, withIntermediateDirectories: true)
        return (folder, checkpoints.appendingPathComponent("step_000001.safetensors").path)
    }

    @Test("a reference relative to the checkpoint's folder is found")
    func relativeReference() throws {
        let (folder, checkpoint) = try makeRun()
        let tokenizer = try CheckpointTokenizer.load(explicit: nil, reference: "../tokenizer", checkpoint: checkpoint)
        #expect(tokenizer.vocabularySize == 258)
        let explicit = try CheckpointTokenizer.load(
            explicit: folder.url.appendingPathComponent("tokenizer").path, reference: "elsewhere", checkpoint: checkpoint)
        #expect(explicit.vocabularySize == 258)
    }

    @Test("errors name the checkpoint, the reference and the option")
    func errors() throws {
        let (folder, checkpoint) = try makeRun()
        #expect(throws: CheckpointTokenizerError.noTokenizer(checkpoint: checkpoint, reference: nil)) {
            try CheckpointTokenizer.load(explicit: nil, reference: nil, checkpoint: checkpoint)
        }
        let missing = CheckpointTokenizerError.noTokenizer(checkpoint: checkpoint, reference: "gone")
        #expect(throws: missing) { try CheckpointTokenizer.load(explicit: nil, reference: "gone", checkpoint: checkpoint) }
        #expect(missing.description == "\(checkpoint) names tokenizer 'gone', which is not a folder here; give --tokenizer DIR")
        let path = folder.url.appendingPathComponent("nope").path
        #expect(throws: CheckpointTokenizerError.tokenizerMissing(path: path)) {
            try CheckpointTokenizer.load(explicit: path, reference: nil, checkpoint: checkpoint)
        }
    }
}
