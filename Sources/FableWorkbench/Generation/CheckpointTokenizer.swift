import FableTokenizer
import FableTraining
import Foundation

/// Finds the tokenizer that goes with a checkpoint: the folder given explicitly
/// (`--tokenizer`), else the one the checkpoint names, taken as given or relative to the
/// checkpoint's folder (a run folder keeps `../tokenizer` beside `checkpoints/`).
package enum CheckpointTokenizer {
    /// Loads the tokenizer for `checkpoint`.
    /// - Parameters:
    ///   - explicit: a tokenizer folder that overrides the checkpoint's reference.
    ///   - reference: the tokenizer the checkpoint names (`ModelFile`'s `tokenizerReference`).
    ///   - checkpoint: the checkpoint's path, for relative references and messages.
    /// - Throws: ``CheckpointTokenizerError`` naming the checkpoint or folder, or the
    ///   tokenizer's own file errors.
    package static func load(explicit: String?, reference: String?, checkpoint: String) throws -> Tokenizer {
        if let explicit {
            let url = URL(fileURLWithPath: explicit)
            guard directoryExists(url) else { throw CheckpointTokenizerError.tokenizerMissing(path: url.path) }
            return try Tokenizer.load(from: url)
        }
        guard let reference else { throw CheckpointTokenizerError.noTokenizer(checkpoint: checkpoint, reference: nil) }
        guard let folder = ModelFile.tokenizerFolder(reference: reference, checkpoint: URL(fileURLWithPath: checkpoint)) else {
            throw CheckpointTokenizerError.noTokenizer(checkpoint: checkpoint, reference: reference)
        }
        return try Tokenizer.load(from: folder)
    }

    private static func directoryExists(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}

/// Why no tokenizer was found for a checkpoint; the messages name the file and the option.
package enum CheckpointTokenizerError: Error, CustomStringConvertible, Equatable {
    /// The checkpoint names no tokenizer, or one that is not a folder here.
    case noTokenizer(checkpoint: String, reference: String?)
    /// The folder given with --tokenizer does not exist.
    case tokenizerMissing(path: String)

    package var description: String {
        switch self {
        case let .noTokenizer(checkpoint, reference):
            if let reference {
                return "\(checkpoint) names tokenizer '\(reference)', which is not a folder here; give --tokenizer DIR"
            }
            return "\(checkpoint) names no tokenizer; give --tokenizer DIR"
        case let .tokenizerMissing(path):
            return "--tokenizer \(path): no such folder (expected vocab.json and merges.txt inside)"
        }
    }
}
