import FableModel
import FableTokenizer
import FableTraining
import Foundation

/// What an export reads: a model from a checkpoint or weights file (through FableTraining's
/// ``ModelFile``) and its tokenizer folder.
public struct ExportSource {
    public let model: TransformerLM
    public let tokenizer: TokenizerExport
    /// The tokenizer folder that was read.
    public let tokenizerURL: URL

    /// Loads the model in `checkpoint` and the tokenizer in `tokenizer`, or else the folder
    /// the checkpoint names (as given, or relative to the checkpoint's folder).
    /// - Parameter config: the model config for weights files that record none.
    public static func load(checkpoint: URL, tokenizer: URL?, config: ModelConfig? = nil) throws -> ExportSource {
        let loaded = try ModelFile.load(from: checkpoint, config: config)
        let folder = try tokenizer ?? locateTokenizer(reference: loaded.tokenizerReference, checkpoint: checkpoint)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw InterchangeError.tokenizer(path: folder.path, reason: "no such folder (expected vocab.json and merges.txt inside)")
        }
        let vocabulary = try Vocabulary.load(from: folder)
        let export = try TokenizerExport(vocabulary: vocabulary, source: folder.path)
        guard export.texts.count <= loaded.model.config.vocabSize else {
            throw InterchangeError.tokenizer(path: folder.path, reason: "it has \(export.texts.count) tokens but the model's vocab_size is \(loaded.model.config.vocabSize); they were not trained together")
        }
        return ExportSource(model: loaded.model, tokenizer: export, tokenizerURL: folder)
    }

    static func locateTokenizer(reference: String?, checkpoint: URL) throws -> URL {
        guard let reference else {
            throw InterchangeError.tokenizer(path: checkpoint.path, reason: "the file names no tokenizer; give --tokenizer DIR")
        }
        guard let folder = ModelFile.tokenizerFolder(reference: reference, checkpoint: checkpoint) else {
            throw InterchangeError.tokenizer(path: reference, reason: "named by \(checkpoint.path) but not a folder here; give --tokenizer DIR")
        }
        return folder
    }
}
