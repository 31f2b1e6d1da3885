// Continuous batching: each row of a KVCache is an independent sequence (a slot) with its
// own length, so sequences can join and leave a running batch at any step.

extension TransformerLM {
    /// Runs a prompt through the model into one slot of `cache`, after the positions that
    /// slot already holds (normally none: ``KVCache/clearSlot(_:)`` first), and returns the
    /// logits of its last position, (vocab).
    ///
    /// The arithmetic is exactly that of a one-row ``forward(appending:batch:cache:allPositions:)``
    /// on a fresh cache, so a sequence decoded in a slot gives the same logits as one decoded
    /// alone.
    /// - Throws: ``ModelError`` for an empty prompt, an id outside the vocabulary or a slot
    ///   that would overflow.
    public func forward(prefill tokens: [Int], slot: Int, cache: KVCache) throws(ModelError) -> [Float] {
        try checkSlots([slot], tokens: tokens, newPositions: tokens.count, cache: cache)
        let placement = RowPlacement(slots: [slot], starts: [cache.slotLengths[slot]])
        let logits = [Float](unsafeUninitializedCapacity: config.vocabSize) { buffer, count in
            run(tokens, placement: placement, newPositions: tokens.count, cache: cache, allPositions: false,
                rowInvariant: false, logits: buffer.baseAddress!)
            count = config.vocabSize
        }
        cache.slotLengths[slot] += tokens.count
        return logits
    }

    /// Feeds one token to each of `slots`, at each slot's own next position, and returns
    /// their logits, (slots.count, vocab) row-major in the order given.
    ///
    /// Every projection uses the row-invariant kernel, so a slot's logits are the same bits
    /// whichever other slots share the step (and the same as a one-row cached step).
    /// - Throws: ``ModelError`` for a token/slot count mismatch, repeated slots, an id
    ///   outside the vocabulary or a full slot.
    public func forward(step tokens: [Int], slots: [Int], cache: KVCache) throws(ModelError) -> [Float] {
        guard tokens.count == slots.count else {
            throw .shapeMismatch(expected: "one token per slot (\(slots.count))", actual: "\(tokens.count) tokens")
        }
        try checkSlots(slots, tokens: tokens, newPositions: 1, cache: cache)
        let placement = RowPlacement(slots: slots, starts: slots.map { cache.slotLengths[$0] })
        let logits = [Float](unsafeUninitializedCapacity: slots.count * config.vocabSize) { buffer, count in
            run(tokens, placement: placement, newPositions: 1, cache: cache, allPositions: false,
                rowInvariant: true, logits: buffer.baseAddress!)
            count = slots.count * config.vocabSize
        }
        for slot in slots { cache.slotLengths[slot] += 1 }
        return logits
    }

    /// Validates a slot pass: a cache for this model, distinct slots in range, room for the
    /// new positions, ids in the vocabulary.
    private func checkSlots(_ slots: [Int], tokens: [Int], newPositions t: Int, cache: KVCache) throws(ModelError) {
        guard !tokens.isEmpty, t > 0 else {
            throw .shapeMismatch(expected: "at least one token", actual: "none")
        }
        guard cache.numLayers == config.numLayers, cache.numHeads == config.numHeads,
              cache.headDim == config.headDim else {
            throw .shapeMismatch(
                expected: "a KV cache for \(config.numLayers) layers of \(config.numHeads) heads of \(config.headDim)",
                actual: "\(cache.numLayers) layers of \(cache.numHeads) heads of \(cache.headDim)")
        }
        var seen = Set<Int>()
        for slot in slots {
            guard slot >= 0, slot < cache.capacity, seen.insert(slot).inserted else {
                throw .shapeMismatch(expected: "distinct slots in 0..<\(cache.capacity)", actual: "slots \(slots)")
            }
            let length = cache.slotLengths[slot] + t
            if length > cache.maxLength { throw .sequenceTooLong(length: length, contextLength: cache.maxLength) }
        }
        for (i, token) in tokens.enumerated() where token < 0 || token >= config.vocabSize {
            throw .tokenOutOfRange(index: i, token: token, vocabSize: config.vocabSize)
        }
    }
}
