import FableTensor
import FableTraining
import Foundation

/// The loss a model would get by ignoring context: every token predicted from how often it
/// occurs in the training split. A trained language model's validation loss should sit far
/// below this line; a loss near it means the model has learnt little beyond token counts.
///
/// The distribution is add-α (Laplace) smoothed so a token that never occurs in the
/// training split still has a finite cost:
///
///     p(v) = (count(v) + α) / (N + α·V)
///
/// and the baseline is the cross-entropy of the validation tokens under it, in nats per
/// token, the unit of the models' cross-entropy loss:
///
///     H = -(1 / N_val) · Σ_v count_val(v) · ln p(v)
///
/// ```swift
/// let baseline = try UnigramBaseline(training: trainData, vocabSize: 2048)
/// let nats = try baseline.crossEntropy(of: valData)
/// ```
package struct UnigramBaseline: Sendable, Equatable {
    /// How often each id occurs in the training split (`vocabSize` entries).
    package let counts: [Int]
    /// The number of training tokens counted.
    package let total: Int
    /// The add-α smoothing constant.
    package let smoothing: Double

    /// The number of ids the distribution covers.
    package var vocabSize: Int { counts.count }

    // MARK: - Construction

    /// A baseline from token counts.
    /// - Parameters:
    ///   - counts: occurrences of each id in the training split; its length is the vocabulary size.
    ///   - smoothing: α, added to every count (default 1); must be positive when some count is 0.
    package init(counts: [Int], smoothing: Double = 1) {
        precondition(!counts.isEmpty && smoothing >= 0, "a unigram baseline needs a vocabulary and α >= 0")
        self.counts = counts
        self.total = counts.reduce(0, +)
        self.smoothing = smoothing
    }

    /// A baseline from the tokens of a training split.
    /// - Parameters:
    ///   - training: the training tokens.
    ///   - vocabSize: the vocabulary size (ids at or above it are an error).
    ///   - smoothing: α (default 1).
    /// - Throws: ``TokenDatasetError`` for an unreadable file or an id outside the vocabulary.
    package init(training: TokenDataset, vocabSize: Int, smoothing: Double = 1) throws {
        self.init(counts: try Self.tokenCounts(training, vocabSize: vocabSize), smoothing: smoothing)
    }

    // MARK: - The distribution

    /// The smoothed probability of `id`.
    package func probability(of id: Int) -> Double {
        let denominator = Double(total) + smoothing * Double(vocabSize)
        return (Double(counts[id]) + smoothing) / denominator
    }

    /// The cross-entropy, in nats per token, of tokens with the given counts.
    /// - Parameter evaluated: occurrences of each id in the evaluated tokens (at most
    ///   `vocabSize` entries).
    /// - Returns: NaN when `evaluated` holds no tokens; +inf when an evaluated id has
    ///   probability 0 (only possible with α = 0).
    package func crossEntropy(counts evaluated: [Int]) -> Double {
        precondition(evaluated.count <= vocabSize, "evaluated ids must be inside the vocabulary")
        let denominator = log(Double(total) + smoothing * Double(vocabSize))
        var sum = 0.0
        var n = 0
        for (id, c) in evaluated.enumerated() where c > 0 {
            sum += Double(c) * (log(Double(counts[id]) + smoothing) - denominator)
            n += c
        }
        return n > 0 ? -sum / Double(n) : .nan
    }

    /// The cross-entropy, in nats per token, of every token in `dataset`.
    /// - Throws: ``TokenDatasetError`` for an unreadable file or an id outside the vocabulary.
    package func crossEntropy(of dataset: TokenDataset) throws -> Double {
        crossEntropy(counts: try Self.tokenCounts(dataset, vocabSize: vocabSize))
    }

    /// The entropy of the smoothed training distribution itself, in nats per token (the
    /// baseline's value on data distributed exactly like the training split).
    package var entropy: Double {
        var h = 0.0
        for id in 0..<vocabSize {
            let p = probability(of: id)
            if p > 0 { h -= p * log(p) }
        }
        return h
    }

    // MARK: - Counting

    /// Occurrences of each id in `dataset`, counted in parallel blocks.
    /// - Throws: ``TokenDatasetError/tokenOutOfRange`` naming the first id at or above
    ///   `vocabSize`, or the file's read errors.
    package static func tokenCounts(_ dataset: TokenDataset, vocabSize: Int) throws -> [Int] {
        precondition(vocabSize >= 1, "vocabSize must be positive")
        let count = dataset.count
        guard count > 0 else { return Array(repeating: 0, count: vocabSize) }
        let block = 1 << 16
        let blocks = (count + block - 1) / block
        let chunks = Parallel.chunkCount(for: blocks, minimumChunk: 8)
        // One histogram per chunk, merged at the end: no sharing between threads.
        let histograms = UnsafeMutableBufferPointer<Int>.allocate(capacity: chunks * vocabSize)
        defer { histograms.deallocate() }
        histograms.initialize(repeating: 0)
        let failures = UnsafeMutableBufferPointer<TokenDatasetError?>.allocate(capacity: chunks)
        defer { failures.deallocate() }
        failures.initialize(repeating: nil)
        let histogramBase = histograms.baseAddress!
        Parallel.forEachChunk(chunks) { chunkIndices in
            let buffer = UnsafeMutablePointer<Int32>.allocate(capacity: block)
            defer { buffer.deallocate() }
            for chunk in chunkIndices {
                let histogram = histogramBase + chunk * vocabSize
                blockLoop: for b in Parallel.chunkRange(chunk, of: chunks, count: blocks) {
                    let start = b * block
                    let length = Swift.min(block, count - start)
                    do {
                        try dataset.copyTokens(from: start, count: length, into: buffer)
                    } catch let error as TokenDatasetError {
                        failures[chunk] = error
                        break blockLoop
                    } catch {
                        failures[chunk] = .cannotOpen(path: dataset.url.path, reason: "\(error)")
                        break blockLoop
                    }
                    for i in 0..<length {
                        let id = Int(buffer[i])
                        if id < 0 || id >= vocabSize {
                            failures[chunk] = .tokenOutOfRange(path: dataset.url.path, index: start + i,
                                                               value: Int64(id), vocabSize: vocabSize)
                            break blockLoop
                        }
                        histogram[id] += 1
                    }
                }
            }
        }
        if let failure = failures.lazy.compactMap({ $0 }).first { throw failure }
        var merged = [Int](repeating: 0, count: vocabSize)
        for chunk in 0..<chunks {
            let histogram = histogramBase + chunk * vocabSize
            for id in 0..<vocabSize { merged[id] += histogram[id] }
        }
        return merged
    }
}
