import FableDistributed
import FableModel
import FableTensor
import Testing

@Suite("Gradient buckets and the backward observer")
struct GradientBucketsTests {
    static func model() throws -> TransformerLM {
        try TransformerLM(config: ModelConfig(vocabSize: 50, contextLength: 8, dModel: 16, numLayers: 3, numHeads: 2), seed: 3)
    }

    @Test("buckets tile the flat buffer with whole parameters, last parameters first")
    func tiling() throws {
        let store = try Self.model().parameters
        for bytes in [1, 4 * 300, 4 * 5000, 1 << 30] {
            let buckets = GradientBuckets(store: store, communicator: .single, bucketBytes: bytes)
            let ranges = buckets.ranges
            #expect(ranges.first?.upperBound == store.count)
            #expect(ranges.last?.lowerBound == 0)
            for (a, b) in zip(ranges, ranges.dropFirst()) { #expect(b.upperBound == a.lowerBound) }
            let starts = Set(store.entries.map(\.offset))
            for range in ranges { #expect(starts.contains(range.lowerBound)) }
            if bytes == 1 { #expect(ranges.count == store.entries.filter { $0.count > 0 }.count) }
            if bytes == 1 << 30 { #expect(ranges.count == 1) }
        }
    }

    @Test("backward(observer:) reports every parameter once, when its gradient is final")
    func observer() throws {
        let tokens = (0..<16).map { Int32(($0 * 7) % 50) }, targets = (0..<16).map { Int32(($0 * 3 + 1) % 50) }
        let plain = try Self.model()
        try plain.loss(tokens: tokens, targets: targets, shape: [2, 8]).backward()
        let watched = try Self.model()
        let store = watched.parameters
        var snapshots: [Int: [Float]] = [:]
        var order: [Int] = []
        try watched.loss(tokens: tokens, targets: targets, shape: [2, 8]).backward { finished in
            for gradient in finished {
                #expect(gradient.base == store.gradients.baseAddress!)
                #expect(snapshots[gradient.offset] == nil, "reported twice")
                snapshots[gradient.offset] = Array(store.gradients[gradient.offset..<(gradient.offset + gradient.count)])
                order.append(gradient.offset)
            }
        }
        #expect(Array(store.gradients) == Array(plain.parameters.gradients))  // the observer changes nothing
        for entry in store.entries {
            // The values seen when reported are the final ones: nothing wrote them afterwards.
            #expect(snapshots[entry.offset] == Array(store.gradients[entry.range]), "\(entry.name)")
        }
        // The LM head finishes before the first layer's weights, which finish before the embedding.
        let position = { (name: String) in order.firstIndex(of: store.entry(named: name)!.offset)! }
        #expect(position("lm_head.weight") < position("layers.0.attn.q_proj.weight"))
        #expect(position("layers.2.ffn.w2.weight") < position("layers.0.ffn.w2.weight"))
        #expect(position("layers.0.attn.q_proj.weight") < position("token_embeddings.weight"))
    }
}
