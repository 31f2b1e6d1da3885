// Lazy encoding of text that arrives in chunks (a file read piece by piece, lines from a
// pipe): ids come out as soon as they are final, memory stays flat, and the result is
// exactly the encoding of the whole text (CS336's `encode_iterable`).

extension Tokenizer {
    /// The ids of the concatenation of `chunks`, produced lazily.
    ///
    /// Chunk boundaries never split a token: the encoder holds back the tail that more text
    /// could still change (the last pre-token pieces and any start of a special token),
    /// so the ids equal `encode(chunks.joined())`. Memory stays proportional to the
    /// longest piece plus a batch of text, not to the whole input.
    ///
    /// - Parameter chunks: the text, in order; chunks may be of any size, even empty.
    public func encode<Chunks: Sequence>(chunks: Chunks) -> TokenStream<Chunks> where Chunks.Element == String {
        TokenStream(tokenizer: self, chunks: chunks)
    }
}

/// The ids of a sequence of text chunks, encoded lazily (``Tokenizer/encode(chunks:)``).
public struct TokenStream<Chunks: Sequence>: Sequence where Chunks.Element == String {
    let tokenizer: Tokenizer
    let chunks: Chunks
    /// Text gathered before each encoding step (smaller in tests to exercise the cuts).
    var batchBytes = 1 << 16

    public func makeIterator() -> Iterator {
        Iterator(encoder: tokenizer.makeEncoder(), source: chunks.makeIterator(), batchBytes: batchBytes)
    }

    /// Produces the ids one at a time.
    public struct Iterator: IteratorProtocol {
        let encoder: TokenEncoder
        var source: Chunks.Iterator
        let batchBytes: Int
        /// Text received but not yet encoded.
        var pending: [UInt8] = []
        /// Encode when `pending` reaches this size: a batch more than the tail held back
        /// last time, so a long held-back piece is not rescanned for every small chunk.
        var nextStep: Int
        var ready: [UInt32] = []
        var readyIndex = 0
        var finished = false

        init(encoder: TokenEncoder, source: Chunks.Iterator, batchBytes: Int) {
            self.encoder = encoder
            self.source = source
            self.batchBytes = Swift.max(1, batchBytes)
            nextStep = self.batchBytes
        }

        public mutating func next() -> Int? {
            while readyIndex == ready.count {
                if finished { return nil }
                ready.removeAll(keepingCapacity: true)
                readyIndex = 0
                if let chunk = source.next() {
                    pending.append(contentsOf: chunk.utf8)
                    if pending.count >= nextStep { encodeFinalPrefix() }
                } else {
                    pending.withUnsafeBufferPointer { encoder.encode($0, into: &ready) }
                    pending = []
                    finished = true
                }
            }
            defer { readyIndex += 1 }
            return Int(ready[readyIndex])
        }

        /// Encodes the part of `pending` that later text cannot change, and drops it.
        mutating func encodeFinalPrefix() {
            let encoder = self.encoder
            var ids = ready
            ready = []
            let cut = pending.withUnsafeBufferPointer { buffer -> Int in
                let cut = encoder.finalPrefixLength(of: buffer)
                encoder.encode(UnsafeBufferPointer(rebasing: buffer[..<cut]), into: &ids)
                return cut
            }
            ready = ids
            pending.removeFirst(cut)
            nextStep = pending.count + Swift.max(batchBytes, pending.count)
        }
    }
}
