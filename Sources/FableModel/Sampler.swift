import FableTensor

/// How the next token is chosen from the logits.
///
/// The steps run in this order: temperature, then top-k, then top-p (nucleus), then a
/// draw from what is left, renormalised. Temperature 0 skips all of them and takes the
/// most likely token (greedy; the lowest id wins a tie).
public struct SamplingOptions: Sendable, Equatable {
    /// Divides the logits before the softmax: below 1 sharpens, above 1 flattens; 0 is greedy.
    public var temperature: Float
    /// Keep only the `topK` most likely tokens (ties broken towards lower ids); nil keeps all.
    public var topK: Int?
    /// Keep the smallest set of most likely tokens whose probability reaches `topP`
    /// (nucleus sampling); 1 keeps all.
    public var topP: Float
    /// Only ids below this are ever chosen (a model whose vocabulary was padded beyond its
    /// tokenizer's); nil allows every id.
    public var vocabularyLimit: Int?

    public init(temperature: Float = 1, topK: Int? = nil, topP: Float = 1, vocabularyLimit: Int? = nil) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.vocabularyLimit = vocabularyLimit
    }

    /// Greedy decoding: always the most likely token.
    public static let greedy = SamplingOptions(temperature: 0)

    /// Checks every field; the error names the option.
    public func validate() throws(GenerationError) {
        if !(temperature.isFinite && temperature >= 0) {
            throw .invalidOption(name: "temperature", value: "\(temperature)", expected: "a finite number >= 0 (0 is greedy)")
        }
        if let topK, topK < 1 {
            throw .invalidOption(name: "top-k", value: "\(topK)", expected: "a positive integer (or none)")
        }
        if !(topP > 0 && topP <= 1) {
            throw .invalidOption(name: "top-p", value: "\(topP)", expected: "a number in (0, 1]")
        }
        if let vocabularyLimit, vocabularyLimit < 1 {
            throw .invalidOption(name: "vocabulary limit", value: "\(vocabularyLimit)", expected: "a positive integer")
        }
    }
}

/// Draws tokens from logits with ``SamplingOptions`` and a seeded ``RandomGenerator``:
/// the same logits, options and generator state always give the same token.
///
/// Each draw uses exactly one value from the generator (none when greedy), so a sample's
/// stream position depends only on how many tokens it has drawn.
public struct Sampler {
    public let options: SamplingOptions
    /// Scratch for the probabilities (reused across calls).
    private var weights: [Float] = []

    public init(options: SamplingOptions) {
        self.options = options
    }

    // MARK: - Drawing

    /// The next token for `logits` (one row, vocabulary-sized).
    public mutating func sample(_ logits: UnsafeBufferPointer<Float>, using generator: inout RandomGenerator) -> Int {
        let n = min(logits.count, options.vocabularyLimit ?? logits.count)
        precondition(n > 0, "Sampler: no logits")
        let base = logits.baseAddress!
        if options.temperature == 0 { return Self.argmax(base, count: n) }
        if weights.count < n { weights = [Float](repeating: 0, count: n) }
        let u = generator.nextUnitDouble()
        return weights.withUnsafeMutableBufferPointer { buffer in
            let w = buffer.baseAddress!
            // A temperature so small that logits / temperature overflow Float (1e-40) is
            // greedy, its limit; the generator value is still used, as documented.
            if !Self.scalesFinitely(base, count: n, temperature: options.temperature) { return Self.argmax(base, count: n) }
            Self.exponentiate(base, count: n, temperature: options.temperature, into: w)
            let all = UnsafeBufferPointer(start: w, count: n)
            if options.topK.map({ $0 >= n }) ?? true, options.topP >= 1 {
                return Self.draw(u, weights: all)
            }
            let kept = Self.truncate(all, topK: options.topK, topP: options.topP)
            return Self.draw(u, weights: all, among: kept)
        }
    }

    /// The next token for an array of logits.
    public mutating func sample(_ logits: [Float], using generator: inout RandomGenerator) -> Int {
        logits.withUnsafeBufferPointer { sample($0, using: &generator) }
    }

    /// The tokens that can be drawn and their probabilities after temperature, top-k and
    /// top-p, most likely first (for inspection and tests).
    public func distribution(_ logits: [Float]) -> [(token: Int, probability: Double)] {
        let n = min(logits.count, options.vocabularyLimit ?? logits.count)
        guard n > 0 else { return [] }
        let greedy = options.temperature == 0
            || !logits.withUnsafeBufferPointer { Self.scalesFinitely($0.baseAddress!, count: n, temperature: options.temperature) }
        if greedy {
            return [(logits.withUnsafeBufferPointer { Self.argmax($0.baseAddress!, count: n) }, 1)]
        }
        var w = [Float](repeating: 0, count: n)
        logits.withUnsafeBufferPointer { Self.exponentiate($0.baseAddress!, count: n, temperature: options.temperature, into: &w) }
        let kept = w.withUnsafeBufferPointer { Self.truncate($0, topK: options.topK, topP: options.topP) }
        let total = kept.reduce(0.0) { $0 + Double(w[$1]) }
        return kept.map { ($0, Double(w[$0]) / total) }
    }

    // MARK: - Steps

    /// The first index of the largest value.
    static func argmax(_ x: UnsafePointer<Float>, count: Int) -> Int {
        var best = 0, value = x[0]
        for i in 1..<max(count, 1) where x[i] > value { best = i; value = x[i] }
        return best
    }

    /// True when every `x[i] / temperature` is a finite Float.
    static func scalesFinitely(_ x: UnsafePointer<Float>, count n: Int, temperature: Float) -> Bool {
        let inverse = 1 / temperature
        guard inverse.isFinite else { return false }
        var largest: Float = 0
        for i in 0..<n { largest = Swift.max(largest, abs(x[i])) }
        return (largest * inverse).isFinite
    }

    /// `w[i] = exp((x[i] - max) / temperature)`: softmax weights, not yet normalised.
    static func exponentiate(_ x: UnsafePointer<Float>, count n: Int, temperature: Float, into w: UnsafeMutablePointer<Float>) {
        let inverse = 1 / temperature
        for i in 0..<n { w[i] = x[i] * inverse }
        let m = Vector.max(w, count: n)
        _ = Vector.expShifted(w, shift: m, into: w, count: n)
    }

    /// The indices top-k and then top-p keep from non-negative `weights` (probabilities up
    /// to a common factor), most likely first, ties in increasing index order.
    ///
    /// Top-p keeps the shortest prefix of that order whose weight reaches `topP` times the
    /// total weight of what top-k kept; sums are in Double, and a relative shortfall of at
    /// most 1e-6 (Float32 rounding of the probabilities) counts as reaching it.
    ///
    /// - Parameters:
    ///   - topK: nil keeps every index before top-p.
    ///   - topP: in (0, 1]; 1 keeps everything top-k kept.
    public static func truncate(_ weights: UnsafeBufferPointer<Float>, topK: Int?, topP: Float) -> [Int] {
        let n = weights.count
        guard n > 0 else { return [] }
        let k = min(topK ?? n, n)
        let cutsK = k < n
        if !cutsK && topP >= 1 {
            // Nothing is cut: every index, in order of weight.
            return Array(0..<n).sorted { weights[$0] != weights[$1] ? weights[$0] > weights[$1] : $0 < $1 }
        }
        var total = 0.0
        for w in weights { total += Double(w) }
        // Only tokens above a small threshold can be in the kept set when those above it
        // number at least k and (for top-p) carry at least topP of the mass; sort just those.
        var maxWeight: Float = 0
        for w in weights where w > maxWeight { maxWeight = w }
        var threshold = maxWeight * 0x1p-20
        var candidates: [Int] = []
        while true {
            candidates.removeAll(keepingCapacity: true)
            var mass = 0.0
            for i in 0..<n where weights[i] >= threshold && weights[i] > 0 {
                candidates.append(i)
                mass += Double(weights[i])
            }
            let enoughK = !cutsK || candidates.count >= k
            let enoughP = cutsK || topP >= 1 || mass >= Double(topP) * total
            if (enoughK && enoughP) || threshold == 0 { break }
            threshold = threshold > 0x1p-100 ? threshold * 0x1p-20 : 0
        }
        if threshold == 0 {
            // Zero weights can be kept too (top-k larger than the non-zero support).
            candidates = Array(0..<n)
        }
        candidates.sort { weights[$0] != weights[$1] ? weights[$0] > weights[$1] : $0 < $1 }
        if candidates.count > k { candidates.removeLast(candidates.count - k) }
        guard topP < 1 else { return candidates }
        // The mass top-p is measured against: what top-k kept, or everything.
        var keptMass = total
        if cutsK {
            keptMass = 0
            for i in candidates { keptMass += Double(weights[i]) }
        }
        let target = Double(topP) * keptMass * (1 - 1e-6)
        var cumulative = 0.0
        for (rank, i) in candidates.enumerated() {
            cumulative += Double(weights[i])
            if cumulative >= target { return Array(candidates[...rank]) }
        }
        return candidates
    }

    /// The index where `u · total` falls in the running sum of `weights`.
    static func draw(_ u: Double, weights: UnsafeBufferPointer<Float>) -> Int {
        var total = 0.0
        for w in weights { total += Double(w) }
        let target = u * total
        var cumulative = 0.0, last = 0
        for (i, w) in weights.enumerated() where w > 0 {
            cumulative += Double(w)
            last = i
            if target < cumulative { return i }
        }
        return last
    }

    /// Like ``draw(_:weights:)`` over the kept indices only, in their order.
    static func draw(_ u: Double, weights: UnsafeBufferPointer<Float>, among kept: [Int]) -> Int {
        var total = 0.0
        for i in kept { total += Double(weights[i]) }
        let target = u * total
        var cumulative = 0.0
        for i in kept {
            cumulative += Double(weights[i])
            if target < cumulative { return i }
        }
        return kept.last ?? 0
    }
}
