import FableModel
import FableTensor
import FableTokenizer
import FableTraining
import Foundation

/// Loss, perplexity and bits per byte of a model on a whole token stream of any length
/// (`fable eval`).
///
/// The stream is cut into consecutive windows of `contextLength + 1` tokens that share
/// their edge token, so every token after the first is predicted exactly once, with as
/// much context as the window gives it; the last window may be shorter. Tokens arrive
/// block by block (``feed(_:)``) and only one batch of windows is held, so a file
/// larger than memory streams through. Feeding the same tokens in any blocking gives the
/// same windows, hence the same result.
///
/// Bits per byte divides the total loss by the bytes the predicted tokens decode to
/// (special tokens count as their text), so that
/// `bitsPerByte == loss * tokens / (bytes * ln 2)` and figures from tokenizers of
/// different vocabularies compare.
package final class HeldOutEvaluator {
    /// The running or final result.
    package struct Result: Equatable, Sendable {
        /// Tokens predicted (every token but the first).
        package var tokens = 0
        /// Sum of the per-token cross-entropies, in nats.
        package var totalNats = 0.0
        /// Bytes the predicted tokens decode to; nil when no tokenizer was given.
        package var bytes: Int?
        /// Windows evaluated.
        package var windows = 0

        /// Mean cross-entropy per predicted token, in nats.
        package var loss: Double { tokens > 0 ? totalNats / Double(tokens) : .nan }
        /// exp(loss).
        package var perplexity: Double { exp(loss) }
        /// Total loss in bits over the bytes predicted; nil without byte counts.
        package var bitsPerByte: Double? {
            guard let bytes, bytes > 0 else { return nil }
            return totalNats / (Double(bytes) * log(2.0))
        }
    }

    private let model: TransformerLM
    private let contextLength: Int
    private let batchSize: Int
    /// Byte length of each token id, when a tokenizer is known.
    private let tokenByteCounts: [Int]?
    private let maxTokens: Int?
    /// Tokens received but not yet evaluated; its first token is the context of the next window.
    private var pending: [Int32] = []
    private(set) package var result: Result
    /// Called after each evaluated batch with the result so far (for a progress display).
    package var afterBatch: ((Result) -> Void)?

    /// - Parameters:
    ///   - model: the model to evaluate (run without gradients).
    ///   - tokenizer: gives each id's byte length for bits per byte; nil reports no bytes.
    ///   - contextLength: window length; default (and at most) the model's context.
    ///   - batchSize: windows per forward pass.
    ///   - maxTokens: stop after predicting this many tokens.
    package init(model: TransformerLM, tokenizer: Tokenizer?, contextLength: Int? = nil, batchSize: Int = 8,
                 maxTokens: Int? = nil) {
        self.model = model
        self.contextLength = min(contextLength ?? model.config.contextLength, model.config.contextLength)
        self.batchSize = max(1, batchSize)
        self.maxTokens = maxTokens
        tokenByteCounts = tokenizer.map { tok in
            (0..<tok.vocabularySize).map { tok.tokenBytes($0)?.count ?? 0 }
        }
        result = Result(bytes: tokenizer == nil ? nil : 0)
        pending.reserveCapacity(self.batchSize * self.contextLength + 1)
    }

    /// True once `maxTokens` tokens have been predicted; later input is ignored.
    package var isFull: Bool { maxTokens.map { result.tokens + max(0, pending.count - 1) >= $0 } ?? false }

    /// Adds the next tokens of the stream, evaluating every batch of windows they complete.
    /// - Throws: ``ModelError`` for an id outside the model's vocabulary.
    package func feed<Block: Collection>(_ block: Block) throws where Block.Element: BinaryInteger {
        let full = batchSize * contextLength + 1
        for id in block {
            if isFull { break }
            guard let narrow = Int32(exactly: id) else { throw EvaluationError.tokenOutOfRange(value: Int64(truncatingIfNeeded: id)) }
            pending.append(narrow)
            if pending.count == full { try evaluatePending() }
        }
    }

    /// Evaluates what is left (a shorter last window) and returns the final result.
    package func finish() throws -> Result {
        if pending.count > 1 { try evaluatePending() }
        pending.removeAll()
        return result
    }

    /// Evaluates `pending` as full windows plus one shorter window, keeping its last token.
    private func evaluatePending() throws {
        var limit = pending.count - 1
        if let maxTokens { limit = min(limit, maxTokens - result.tokens) }
        guard limit > 0 else { return }
        let fullWindows = limit / contextLength
        try withNoGrad {
            if fullWindows > 0 { try evaluate(start: 0, windows: fullWindows, length: contextLength) }
            let rest = limit - fullWindows * contextLength
            if rest > 0 { try evaluate(start: fullWindows * contextLength, windows: 1, length: rest) }
        }
        pending.removeFirst(limit)
        if let maxTokens, result.tokens >= maxTokens { pending.removeAll() }
    }

    /// Evaluates `windows` windows of `length` predictions starting at `pending[start]`.
    private func evaluate(start: Int, windows: Int, length: Int) throws {
        var inputs = [Int32](), targets = [Int32]()
        inputs.reserveCapacity(windows * length)
        targets.reserveCapacity(windows * length)
        for window in 0..<windows {
            let base = start + window * length
            inputs.append(contentsOf: pending[base..<(base + length)])
            targets.append(contentsOf: pending[(base + 1)...(base + length)])
        }
        let loss = try model.loss(tokens: inputs, targets: targets, shape: [windows, length])
        result.totalNats += Double(loss.item()) * Double(targets.count)
        result.tokens += targets.count
        result.windows += windows
        defer { afterBatch?(result) }
        if let tokenByteCounts {
            var bytes = 0
            for id in targets {
                guard Int(id) < tokenByteCounts.count else { break }  // the model already rejected it
                bytes += tokenByteCounts[Int(id)]
            }
            result.bytes! += bytes
        }
    }
}

/// Why a held-out evaluation stopped.
package enum EvaluationError: Error, CustomStringConvertible, Equatable {
    case tokenOutOfRange(value: Int64)

    package var description: String {
        switch self {
        case let .tokenOutOfRange(value): return "token id \(value) does not fit a 32-bit id"
        }
    }
}
