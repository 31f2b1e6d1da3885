import FableTokenizer
import FableTraining
import Foundation

extension HeldOutEvaluator {
    /// What an input file holds.
    package enum InputKind: Equatable, Sendable {
        /// Token ids: `.npy`, or raw `.bin` of the given element type.
        case tokens(TokenDataset.Element?)
        /// UTF-8 text, encoded with the tokenizer on the way.
        case text

        /// `.npy` and `.bin` are tokens, anything else text.
        package init(path: String, dtype: TokenDataset.Element?) {
            switch URL(fileURLWithPath: path).pathExtension.lowercased() {
            case "npy", "bin": self = .tokens(dtype)
            default: self = .text
            }
        }
    }

    /// How far the evaluation has come, after each batch: `done` of `total` in the file's
    /// unit (tokens for token files, bytes for text), and the result so far.
    package typealias FileProgress = (_ done: Int, _ total: Int?, _ result: Result) -> Void

    /// Evaluates a whole file, streaming it: token files are memory-mapped and read in
    /// blocks, text files are encoded block by block (`TokenFileEncoder`), so neither is
    /// ever held whole.
    /// - Parameters:
    ///   - tokenizer: required for text; gives byte counts for either kind.
    ///   - threads: encoder threads for text.
    /// - Throws: ``TokenDatasetError`` / `TokenFileError` naming the file, ``EvalFileError``
    ///   for text without a tokenizer or an empty input, `ModelError` for ids the model lacks.
    package func evaluate(file path: String, kind: InputKind, tokenizer: Tokenizer?, threads: Int = 1,
                          progress: FileProgress? = nil) throws -> Result {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw EvalFileError.missing(path: path)
        }
        guard !isDirectory.boolValue else { throw EvalFileError.isFolder(path: path) }
        switch kind {
        case .tokens(let element):
            let dataset = try TokenDataset(url: url, element: element, validation: .lazy)
            let block = 1 << 16
            var buffer = [Int32](repeating: 0, count: block)
            afterBatch = { progress?($0.tokens + 1, dataset.count, $0) }
            var start = 0
            while start < dataset.count && !isFull {
                let length = min(block, dataset.count - start)
                try buffer.withUnsafeMutableBufferPointer { try dataset.copyTokens(from: start, count: length, into: $0.baseAddress!) }
                try feed(buffer[0..<length])
                start += length
            }
        case .text:
            guard let tokenizer else { throw EvalFileError.textNeedsTokenizer(path: path) }
            let encoder = TokenFileEncoder(tokenizer: tokenizer, threads: threads)
            let total = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int
            // Bytes predicted so far stand for the bytes read (the text's first token aside).
            afterBatch = { progress?($0.bytes ?? 0, total, $0) }
            do {
                _ = try encoder.encode(input: url) { ids in
                    if isFull { throw StopReading() }
                    try feed(ids)
                }
            } catch is StopReading {}
        }
        defer { afterBatch = nil }
        let final = try finish()
        guard final.tokens > 0 else { throw EvalFileError.tooShort(path: path) }
        return final
    }

    /// Ends the encoder's read loop early once `maxTokens` are in.
    private struct StopReading: Error {}
}

/// Why a file could not be evaluated; each message names the file.
package enum EvalFileError: Error, CustomStringConvertible, Equatable {
    case missing(path: String)
    case isFolder(path: String)
    case textNeedsTokenizer(path: String)
    case tooShort(path: String)

    package var description: String {
        switch self {
        case let .missing(path): return "--input \(path): no such file"
        case let .isFolder(path): return "--input \(path): is a folder; expected a text, .npy or .bin file"
        case let .textNeedsTokenizer(path):
            return "--input \(path): text needs a tokenizer to encode it; the checkpoint names none, give --tokenizer DIR"
        case let .tooShort(path): return "--input \(path): fewer than 2 tokens, nothing to predict"
        }
    }
}
