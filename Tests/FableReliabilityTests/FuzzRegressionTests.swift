import FableFormats
import FableModel
import FableTensor
import FableTestSupport
import FableTokenizer
import FableTraining
import Foundation
import Testing

/// Replays the inputs the fuzzers (Sources/fable-fuzz) kept: the crashes they found, now
/// fixed, and seeds. Each must parse or fail with a typed error; a trap fails the run.
@Suite("Fuzz regression inputs")
struct FuzzRegressionTests {
    /// The same parsers as Sources/fable-fuzz/FuzzTargets.swift, by target name.
    static let parsers: [String: @Sendable (URL) throws -> Void] = [
        "vocab-json": { _ = try Vocabulary.readVocabJSON($0, specialTokens: ["<|endoftext|>"]) },
        "merges-txt": { _ = try Vocabulary.readMerges($0) },
        "special-tokens": { _ = try Vocabulary.readSpecialTokens($0) },
        "npy-header": { url in _ = try NPYHeader.parse([UInt8](try Data(contentsOf: url)), path: url.path) },
        "npy-tokens": { _ = try TokenArrayReader.read($0) },
        "npy-dataset": { _ = try TokenDataset(url: $0) },
        "safetensors": { url in
            let file = try SafeTensorsFile(contentsOf: url)
            for name in file.names { _ = try? file.floats(named: name) }
        },
        "training-config": { _ = try TrainingConfig.load(from: $0) },
        "model-config": { _ = try ModelConfig.load(from: $0) },
        "metrics-jsonl": { _ = try MetricsLog.read($0) },
    ]

    static let extensions = ["vocab-json": "json", "merges-txt": "txt", "special-tokens": "txt", "npy-header": "npy",
                             "npy-tokens": "npy", "npy-dataset": "npy", "safetensors": "safetensors",
                             "training-config": "json", "model-config": "json", "metrics-jsonl": "jsonl"]

    @Test("every committed input parses or fails with a typed error", arguments: parsers.keys.sorted())
    func replay(_ target: String) throws {
        let folder = TestData.fixturesRoot.appendingPathComponent("fuzz/\(target)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        let scratch = scratchFolder("fuzz-\(target)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        for name in names.sorted() where !name.hasPrefix(".") {
            // The parsers choose by extension (.npy), so each input is copied under the right one.
            let input = scratch.appendingPathComponent(name).appendingPathExtension(Self.extensions[target]!)
            try FileManager.default.copyItem(at: folder.appendingPathComponent(name), to: input)
            do { try Self.parsers[target]!(input) } catch {
                #expect(!"\(error)".isEmpty)
            }
        }
    }
}
