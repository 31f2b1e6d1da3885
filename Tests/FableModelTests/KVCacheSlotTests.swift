import FableTensor
import Testing
@testable import FableModel

/// Continuous batching's slot passes against two independent references: the lock-step
/// cached pass of one sequence alone (which must give the same bits, so a request's text
/// does not depend on its batch-mates) and the full autograd forward over the whole prefix
/// (itself checked against PyTorch in TransformerLMGoldenTests).
@Suite("KV cache slots")
struct KVCacheSlotTests {
    static let config = ModelConfig(vocabSize: 61, contextLength: 24, dModel: 32, numLayers: 2, numHeads: 4, dFF: 72,
                                    ropeTheta: 10_000)

    /// Sequences of different lengths join a running batch at different steps, in shuffled
    /// slots; each slot's logits at every step equal its own one-row run bit for bit.
    @Test func slotsMatchSequencesRunAlone() throws {
        let model = try TransformerLM(config: Self.config, seed: 5)
        var rng = RandomGenerator(seed: 9)
        // (slot, prompt length, step at which it joins)
        let plan: [(slot: Int, prompt: Int, joins: Int)] = [(3, 5, 0), (0, 1, 0), (1, 9, 2), (2, 3, 4), (4, 12, 4)]
        let prompts = plan.map { entry in (0..<entry.prompt).map { _ in rng.nextInt(below: Self.config.vocabSize) } }
        let feeds = plan.map { _ in (0..<8).map { _ in rng.nextInt(below: Self.config.vocabSize) } }

        // References: each sequence alone, lock-step, batch 1.
        var alone: [[[Float]]] = []
        for (i, prompt) in prompts.enumerated() {
            let cache = KVCache(config: Self.config, batch: 1)
            var steps = [try model.forward(appending: prompt, batch: 1, cache: cache)]
            for token in feeds[i].prefix(8 - plan[i].joins) { steps.append(try model.forward(appending: [token], batch: 1, cache: cache)) }
            alone.append(steps)
        }

        let cache = KVCache(config: Self.config, batch: 5)
        var fed = Array(repeating: 0, count: plan.count)
        var joined: [Int] = []
        for step in 0..<8 {
            for (i, entry) in plan.enumerated() where entry.joins == step {
                cache.clearSlot(entry.slot)
                let logits = try model.forward(prefill: prompts[i], slot: entry.slot, cache: cache)
                #expect(logits == alone[i][0], "prefill of sequence \(i)")
                #expect(cache.slotLength(entry.slot) == prompts[i].count)
                joined.append(i)
            }
            let order = joined.reversed().map { $0 }   // not in slot order
            let logits = try model.forward(step: order.map { feeds[$0][fed[$0]] }, slots: order.map { plan[$0].slot }, cache: cache)
            let vocab = Self.config.vocabSize
            for (row, i) in order.enumerated() {
                fed[i] += 1
                let mine = Array(logits[(row * vocab)..<((row + 1) * vocab)])
                #expect(mine == alone[i][fed[i]], "sequence \(i) after \(fed[i]) steps, batched with \(order.count - 1) others")
            }
        }
    }

    /// A slot's step logits against the autograd forward over its whole prefix.
    @Test func slotStepsMatchFullForward() throws {
        let model = try TransformerLM(config: Self.config, seed: 6)
        let cache = KVCache(config: Self.config, batch: 3)
        var a = [1, 2, 3, 4, 5, 6], b = [7, 8]
        _ = try model.forward(prefill: a, slot: 2, cache: cache)
        _ = try model.forward(prefill: b, slot: 0, cache: cache)
        for step in 0..<4 {
            a.append(10 + step); b.append(20 + step)
            let logits = try model.forward(step: [a.last!, b.last!], slots: [2, 0], cache: cache)
            let vocab = Self.config.vocabSize
            for (row, sequence) in [a, b].enumerated() {
                let full = try KVCacheTests.fullLogits(model, [sequence])
                let difference = KVCacheTests.maxDifference(Array(logits[(row * vocab)..<((row + 1) * vocab)]), full)
                #expect(difference <= 1e-5, "row \(row) step \(step): \(difference)")
            }
        }
    }

    /// Copying a slot shares a prompt; clearing frees it; bad passes are typed errors.
    @Test func copyClearAndErrors() throws {
        let model = try TransformerLM(config: Self.config, seed: 7)
        let cache = KVCache(config: Self.config, batch: 2)
        let first = try model.forward(prefill: [3, 1, 4, 1, 5], slot: 0, cache: cache)
        cache.copySlot(0, to: 1)
        #expect(cache.slotLength(1) == 5)
        let both = try model.forward(step: [9, 9], slots: [0, 1], cache: cache)
        let vocab = Self.config.vocabSize
        #expect(Array(both[0..<vocab]) == Array(both[vocab...]))
        #expect(first.count == vocab)
        cache.clearSlot(1)
        #expect(cache.slotLength(1) == 0)
        #expect(throws: ModelError.self) { try model.forward(step: [1, 2], slots: [0, 0], cache: cache) }
        #expect(throws: ModelError.self) { try model.forward(step: [1], slots: [2], cache: cache) }
        #expect(throws: ModelError.self) { try model.forward(step: [99], slots: [1], cache: cache) }
        #expect(throws: ModelError.self) { try model.forward(prefill: Array(repeating: 1, count: 25), slot: 1, cache: cache) }
        #expect(throws: ModelError.self) { try model.forward(prefill: [], slot: 1, cache: cache) }
    }
}
