import FableFormats
import FableModel
import FableTensor
import FableTokenizer
import FableTraining
import Foundation

/// The parsers of files a user hands to Fable, each a fuzz target. An input is written to
/// a file (the parsers read files, as users' files reach them) and parsed; a thrown error
/// is a correct answer, while a trap, a crash or a hang is a finding. The one list behind
/// both the `fable-fuzz` executable and the regression tests that replay its findings.
public enum FuzzTargets {
    public struct Target: Sendable {
        public var name: String
        /// The extension the parser expects (TokenDataset reads .npy by its name).
        public var fileExtension: String
        public var parse: @Sendable (URL) throws -> Void
    }

    public static let all: [Target] = [
        Target(name: "vocab-json", fileExtension: "json") { _ = try Vocabulary.readVocabJSON($0, specialTokens: ["<|endoftext|>"]) },
        Target(name: "merges-txt", fileExtension: "txt") { _ = try Vocabulary.readMerges($0) },
        Target(name: "special-tokens", fileExtension: "txt") { _ = try Vocabulary.readSpecialTokens($0) },
        Target(name: "npy-header", fileExtension: "npy") { url in
            _ = try NPYHeader.parse([UInt8](try Data(contentsOf: url)), path: url.path)
        },
        Target(name: "npy-tokens", fileExtension: "npy") { _ = try TokenArrayReader.read($0) },
        Target(name: "npy-dataset", fileExtension: "npy") { _ = try TokenDataset(url: $0) },
        Target(name: "safetensors", fileExtension: "safetensors") { url in
            let file = try SafeTensorsFile(contentsOf: url)
            for name in file.names { _ = try? file.floats(named: name) }
        },
        Target(name: "training-config", fileExtension: "json") { _ = try TrainingConfig.load(from: $0) },
        Target(name: "model-config", fileExtension: "json") { _ = try ModelConfig.load(from: $0) },
        Target(name: "metrics-jsonl", fileExtension: "jsonl") { _ = try MetricsLog.read($0) },
    ]

    public static func named(_ name: String) -> Target? { all.first { $0.name == name } }

    /// Runs `target` on `bytes` through a scratch file; errors are fine.
    public static func run(_ target: Target, _ bytes: UnsafeBufferPointer<UInt8>, scratch: URL) {
        let url = scratch.appendingPathExtension(target.fileExtension)
        _ = FileManager.default.createFile(atPath: url.path, contents: Data(buffer: bytes))
        _ = try? target.parse(url)
    }

    /// A scratch file name for this process.
    public static let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fable-fuzz-\(getpid())")
}
