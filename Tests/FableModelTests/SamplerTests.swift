import FableTensor
import Foundation
import Testing
@testable import FableModel

/// Temperature, top-k and top-p against hand-made distributions and a brute-force
/// reference (sort everything, add up in Double).
@Suite("Sampler")
struct SamplerTests {
    static func kept(_ weights: [Float], topK: Int? = nil, topP: Float = 1) -> [Int] {
        weights.withUnsafeBufferPointer { Sampler.truncate($0, topK: topK, topP: topP) }
    }

    /// The definition, by brute force: sort by (weight desc, index asc), cut to k, then the
    /// shortest prefix whose Double sum reaches p of the kept total.
    static func reference(_ weights: [Float], topK: Int?, topP: Float) -> [Int] {
        var order = Array(weights.indices).sorted { weights[$0] != weights[$1] ? weights[$0] > weights[$1] : $0 < $1 }
        if let topK { order = Array(order.prefix(topK)) }
        guard topP < 1 else { return order }
        let total = order.reduce(0.0) { $0 + Double(weights[$1]) }
        var sum = 0.0
        for (rank, i) in order.enumerated() {
            sum += Double(weights[i])
            if sum >= Double(topP) * total * (1 - 1e-6) { return Array(order[...rank]) }
        }
        return order
    }

    // MARK: - Top-p

    @Test("top-p keeps exactly the smallest set whose probability reaches p")
    func nucleusHandMade() {
        let w: [Float] = [0.1, 0.4, 0.2, 0.3]
        #expect(Self.kept(w, topP: 0.05) == [1])
        #expect(Self.kept(w, topP: 0.4) == [1])         // reaching p exactly is enough
        #expect(Self.kept(w, topP: 0.41) == [1, 3])
        #expect(Self.kept(w, topP: 0.7) == [1, 3])
        #expect(Self.kept(w, topP: 0.71) == [1, 3, 2])
        #expect(Self.kept(w, topP: 0.9) == [1, 3, 2])
        #expect(Self.kept(w, topP: 0.95) == [1, 3, 2, 0])
        #expect(Self.kept(w, topP: 1) == [1, 3, 2, 0])  // p = 1 keeps everything
    }

    @Test("top-p with ties keeps only as many tied tokens as it needs, lowest ids first")
    func nucleusTies() {
        let flat: [Float] = [0.25, 0.25, 0.25, 0.25]
        #expect(Self.kept(flat, topP: 0.5) == [0, 1])
        #expect(Self.kept(flat, topP: 0.51) == [0, 1, 2])
        #expect(Self.kept(flat, topP: 1) == [0, 1, 2, 3])
        let tiedTail: [Float] = [0.2, 0.4, 0.2, 0.2]
        #expect(Self.kept(tiedTail, topP: 0.6) == [1, 0])
        #expect(Self.kept(tiedTail, topP: 0.61) == [1, 0, 2])
        // Unnormalised weights work the same (only ratios matter).
        #expect(Self.kept(tiedTail.map { $0 * 7 }, topP: 0.61) == [1, 0, 2])
    }

    @Test("top-k keeps the k most likely, ties towards lower ids, then top-p applies to them")
    func topK() {
        let w: [Float] = [0.1, 0.4, 0.2, 0.3]
        #expect(Self.kept(w, topK: 1) == [1])
        #expect(Self.kept(w, topK: 2) == [1, 3])
        #expect(Self.kept(w, topK: 10) == [1, 3, 2, 0])
        // Kept by top-3: 0.4, 0.3, 0.2 (total 0.9); p 0.7 of that is 0.63 -> 0.4 + 0.3.
        #expect(Self.kept(w, topK: 3, topP: 0.7) == [1, 3])
        #expect(Self.kept(w, topK: 3, topP: 0.8) == [1, 3, 2])
        #expect(Self.kept([0.3, 0.2, 0.2, 0.3], topK: 3) == [0, 3, 1])
        // More than the support: zero-weight tokens fill up in id order.
        #expect(Self.kept([0, 1, 0], topK: 2) == [1, 0])
    }

    @Test("large random distributions agree with the brute-force definition")
    func matchesBruteForce() {
        var rng = RandomGenerator(seed: 5)
        for trial in 0..<30 {
            let n = 2_000 + trial * 37
            // Peaked or flat, with some exact ties.
            let sharpness = trial % 3 == 0 ? 0.3 : 4.0
            var w = (0..<n).map { _ in Float(Foundation.exp(sharpness * rng.nextNormal())) }
            for _ in 0..<20 { w[rng.nextInt(below: n)] = w[rng.nextInt(below: n)] }
            let k: Int? = trial % 2 == 0 ? nil : 1 + rng.nextInt(below: n / 2)
            let p = [Float(0.1), 0.5, 0.9, 0.95, 0.999, 1][trial % 6]
            #expect(Self.kept(w, topK: k, topP: p) == Self.reference(w, topK: k, topP: p), "trial \(trial)")
        }
    }

    // MARK: - Temperature and greedy

    @Test("temperature divides the logits before the softmax")
    func temperature() {
        let logits: [Float] = [1.5, -0.5, 0.25, 3, 0]
        for t: Float in [0.25, 0.7, 1, 2.5] {
            let sampler = Sampler(options: SamplingOptions(temperature: t))
            let got = Dictionary(uniqueKeysWithValues: sampler.distribution(logits).map { ($0.token, $0.probability) })
            let scaled = logits.map { Double($0) / Double(t) }
            let z = scaled.map { Foundation.exp($0 - scaled.max()!) }.reduce(0, +)
            for (i, l) in scaled.enumerated() {
                let expected = Foundation.exp(l - scaled.max()!) / z
                #expect(abs(got[i]! - expected) <= 2e-6, "T \(t) token \(i)")
            }
        }
    }

    @Test("temperature 0 is greedy: the first maximum, whatever the generator")
    func greedy() {
        var sampler = Sampler(options: .greedy)
        var rng = RandomGenerator(seed: 1)
        let before = rng
        #expect(sampler.sample([0.5, 2, -1, 2, 1], using: &rng) == 1)
        #expect(rng == before, "greedy draws no random numbers")
        for seed in 0..<5 as Range<UInt64> {
            var other = RandomGenerator(seed: seed)
            #expect(sampler.sample([0.1, 0.3, 0.2], using: &other) == 1)
        }
    }

    @Test("draws follow the kept distribution")
    func frequencies() {
        let probabilities: [Float] = [0.1, 0.2, 0.3, 0.4]
        let logits = probabilities.map { Foundation.log($0) }
        func counts(_ options: SamplingOptions, draws: Int = 8_000) -> [Double] {
            var sampler = Sampler(options: options)
            var rng = RandomGenerator(seed: 9)
            var counts = [Double](repeating: 0, count: 4)
            for _ in 0..<draws { counts[sampler.sample(logits, using: &rng)] += 1 }
            return counts.map { $0 / Double(draws) }
        }
        for (f, p) in zip(counts(SamplingOptions()), probabilities) { #expect(abs(f - Double(p)) < 0.02) }
        let topTwo = counts(SamplingOptions(topK: 2))
        #expect(topTwo[0] == 0 && topTwo[1] == 0)
        #expect(abs(topTwo[3] - 4.0 / 7.0) < 0.02)
        let nucleus = counts(SamplingOptions(topP: 0.65))      // keeps 0.4, 0.3 (0.7 >= 0.65)
        #expect(nucleus[0] == 0 && nucleus[1] == 0)
        #expect(abs(nucleus[2] - 3.0 / 7.0) < 0.02)
        let limited = counts(SamplingOptions(vocabularyLimit: 2))
        #expect(limited[2] == 0 && limited[3] == 0)
    }

    @Test("the same seed gives the same draws")
    func seeded() {
        let logits = (0..<500).map { Float(sin(Double($0))) * 3 }
        func draws(_ seed: UInt64) -> [Int] {
            var sampler = Sampler(options: SamplingOptions(temperature: 0.9, topK: 100, topP: 0.9))
            var rng = RandomGenerator(seed: seed)
            return (0..<50).map { _ in sampler.sample(logits, using: &rng) }
        }
        #expect(draws(3) == draws(3))
        #expect(draws(3) != draws(4))
    }

    @Test("invalid options are rejected by name")
    func validation() {
        #expect(throws: GenerationError.self) { try SamplingOptions(temperature: -1).validate() }
        #expect(throws: GenerationError.self) { try SamplingOptions(temperature: .nan).validate() }
        #expect(throws: GenerationError.self) { try SamplingOptions(topK: 0).validate() }
        #expect(throws: GenerationError.self) { try SamplingOptions(topP: 0).validate() }
        #expect(throws: GenerationError.self) { try SamplingOptions(topP: 1.5).validate() }
        do {
            try SamplingOptions(topP: 2).validate()
        } catch {
            #expect(error.description.contains("top-p"))
        }
    }
}
