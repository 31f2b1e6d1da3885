import Foundation
import Testing
import FableTestSupport
import FableTraining
@testable import FableWorkbench

@Suite("Unigram baseline")
struct UnigramBaselineTests {
    @Test("cross-entropy of hand-made counts under add-one smoothing")
    func handMadeCounts() {
        // Training counts 3, 1, 0, 0 and α = 1 give p = 4/8, 2/8, 1/8, 1/8.
        let baseline = UnigramBaseline(counts: [3, 1, 0, 0], smoothing: 1)
        #expect(baseline.total == 4)
        #expect(abs(baseline.probability(of: 0) - 0.5) < 1e-15)
        #expect(abs(baseline.probability(of: 3) - 0.125) < 1e-15)
        // Validation ids 0, 1, 3, 3: -(ln 1/2 + ln 1/4 + 2 ln 1/8) / 4 = 9 ln 2 / 4.
        let h = baseline.crossEntropy(counts: [1, 1, 0, 2])
        #expect(abs(h - 9 * log(2.0) / 4) < 1e-12)
        // Fewer entries than the vocabulary are the leading ids.
        #expect(abs(baseline.crossEntropy(counts: [2]) - log(2.0)) < 1e-12)
        #expect(baseline.crossEntropy(counts: [0, 0]).isNaN)
    }

    @Test("unsmoothed: the training counts' own cross-entropy is their entropy, and any other is larger (Gibbs)")
    func entropyIdentity() {
        let counts = [5, 3, 2, 0]
        let baseline = UnigramBaseline(counts: counts, smoothing: 0)
        let p = [0.5, 0.3, 0.2]
        let entropy = -p.reduce(0) { $0 + $1 * log($1) }
        #expect(abs(baseline.entropy - entropy) < 1e-12)
        #expect(abs(baseline.crossEntropy(counts: counts) - entropy) < 1e-12)
        #expect(baseline.crossEntropy(counts: [1, 1, 1]) > entropy)
        // An id the training split never saw costs infinitely much without smoothing.
        #expect(baseline.crossEntropy(counts: [1, 0, 0, 1]) == .infinity)
    }

    @Test("token files: counts, cross-entropy and an id outside the vocabulary")
    func fromTokenFiles() throws {
        let train = try TokenDataset(url: writeNpy([0, 1, 1, 2, 2, 2], "unigram-train.npy"))
        let val = try TokenDataset(url: writeNpy([2, 0], "unigram-val.npy"))
        let baseline = try UnigramBaseline(training: train, vocabSize: 4)
        #expect(baseline.counts == [1, 2, 3, 0])
        // p(2) = (3 + 1) / (6 + 4), p(0) = (1 + 1) / 10.
        let expected = -(log(0.4) + log(0.2)) / 2
        #expect(abs(try baseline.crossEntropy(of: val) - expected) < 1e-12)

        #expect(throws: TokenDatasetError.tokenOutOfRange(path: train.url.path, index: 3, value: 2, vocabSize: 2)) {
            try UnigramBaseline.tokenCounts(train, vocabSize: 2)
        }
    }

    @Test("parallel counting over many blocks matches a plain loop")
    func parallelCounts() throws {
        let tokens: [UInt16] = (0..<200_000).map { (i: Int) -> UInt16 in
            let id: Int = (i * 7 + i / 13) % 97
            return UInt16(id)
        }
        let dataset = try TokenDataset(url: writeNpy(tokens, "unigram-many.npy"))
        var expected = [Int](repeating: 0, count: 100)
        for t in tokens { expected[Int(t)] += 1 }
        #expect(try UnigramBaseline.tokenCounts(dataset, vocabSize: 100) == expected)
    }
}
