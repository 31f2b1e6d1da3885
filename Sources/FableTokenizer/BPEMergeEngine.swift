import Foundation
import HeapModule

/// The BPE merge loop over counted pre-tokens ("words").
///
/// State: every distinct word as a run of token ids with its count; every adjacent pair's
/// total count; for every pair the words that contain it; and a max-heap of
/// (count, pair) entries. A merge visits only the words listed for its pair, rewrites each
/// in place, and adjusts the counts of the pairs around each merge site. The heap is
/// never rebuilt: an entry whose count no longer matches the pair's count is stale and is
/// skipped when popped (lazy invalidation); every count change pushes a fresh entry.
///
/// Tokens are identified by their bytes, as in CS336's reference (pairs of `bytes`): a
/// merge whose result equals an existing token's bytes reuses that token as the symbol.
struct BPEMergeEngine {
    // MARK: Words
    /// All words' symbols, back to back; a merge shrinks a word in place.
    private var symbols: RawVector<Int32>
    private var wordStart: RawVector<Int>
    private var wordLength: RawVector<Int32>
    private var wordFrequency: RawVector<Int64>
    /// The merge that last visited each word (so a listed-twice word is visited once).
    private var wordStamp: RawVector<Int32>

    // MARK: Pairs
    private var pairIndex: PairIndex
    private var pairCount: RawVector<Int64>
    private var pairLeft: RawVector<Int32>
    private var pairRight: RawVector<Int32>
    /// Words that contain (or once contained) each pair.
    private var pairWords: RawVector<RawVector<Int32>>
    /// The merge that last touched each pair, and its count before that merge.
    private var pairStamp: RawVector<Int32>
    private var pairCountBefore: RawVector<Int64>
    private var touched: RawVector<Int32>
    private var heap: Heap<PairEntry>

    // MARK: Tokens
    private var tokens: TokenTable
    private var idForBytes: [[UInt8]: Int32] = [:]
    private var nextId: Int32
    /// The most merges the words allow.
    private let possibleMerges: Int

    // MARK: Scratch (one byte per symbol of the longest word)
    private var oldMarks: RawVector<UInt8>
    private var newMarks: RawVector<UInt8>

    /// - Parameters:
    ///   - counts: the distinct pre-tokens and their counts.
    ///   - firstByteId: the id of byte 0 (the number of special tokens).
    ///   - vocabCapacity: the final vocabulary size.
    init(counts: PretokenCounts, firstByteId: Int, vocabCapacity: Int) {
        // Words: every pre-token of two or more bytes (a single byte has no pair).
        var totalSymbols = 0
        var wordCount = 0
        var longest = 1
        counts.forEach { key, _ in
            if key.count >= 2 {
                totalSymbols += key.count
                wordCount += 1
                longest = max(longest, key.count)
            }
        }
        // Each merge removes at least one symbol and every word keeps one, which bounds
        // the merges (and the token table) however large the requested vocabulary.
        possibleMerges = totalSymbols - wordCount
        tokens = TokenTable(capacity: min(vocabCapacity, firstByteId + 256 + possibleMerges))
        for byte in 0..<256 { tokens.set(id: firstByteId + byte, bytes: [UInt8(byte)]) }
        nextId = Int32(firstByteId + 256)

        var symbols = RawVector<Int32>(capacity: totalSymbols)
        var wordStart = RawVector<Int>(capacity: wordCount)
        var wordLength = RawVector<Int32>(capacity: wordCount)
        var wordFrequency = RawVector<Int64>(capacity: wordCount)
        counts.forEach { key, count in
            guard key.count >= 2 else { return }
            wordStart.append(symbols.count)
            wordLength.append(Int32(key.count))
            wordFrequency.append(count)
            for byte in key { symbols.append(Int32(firstByteId) + Int32(byte)) }
        }
        self.symbols = symbols
        self.wordStart = wordStart
        self.wordLength = wordLength
        self.wordFrequency = wordFrequency
        wordStamp = RawVector(repeating: -1, count: wordCount)
        oldMarks = RawVector(repeating: 0, count: longest + 1)
        newMarks = RawVector(repeating: 0, count: longest + 1)

        pairIndex = PairIndex(expected: max(1024, wordCount))
        pairCount = RawVector()
        pairLeft = RawVector()
        pairRight = RawVector()
        pairWords = RawVector()
        pairStamp = RawVector()
        pairCountBefore = RawVector()
        touched = RawVector()
        heap = Heap()

        countInitialPairs()
    }

    /// Frees every allocation; the engine must not be used afterwards.
    func deallocate() {
        for pair in 0..<pairWords.count { pairWords[pair].deallocate() }
        symbols.deallocate(); wordStart.deallocate(); wordLength.deallocate()
        wordFrequency.deallocate(); wordStamp.deallocate()
        pairIndex.deallocate(); pairCount.deallocate(); pairLeft.deallocate(); pairRight.deallocate()
        pairWords.deallocate(); pairStamp.deallocate(); pairCountBefore.deallocate(); touched.deallocate()
        oldMarks.deallocate(); newMarks.deallocate()
        tokens.deallocate()
    }

    // MARK: - Pairs

    /// The id of pair (left, right), created with count 0 when new.
    @inline(__always)
    private mutating func pairId(_ left: Int32, _ right: Int32) -> Int32 {
        let key = PairIndex.key(left, right)
        let found = pairIndex.findOrInsert(key, next: Int32(pairCount.count))
        if found.inserted {
            pairCount.append(0)
            pairLeft.append(left)
            pairRight.append(right)
            pairWords.append(RawVector(capacity: 4))
            pairStamp.append(-1)
            pairCountBefore.append(0)
        }
        return found.value
    }

    /// Records `word` in the pair's word list unless it is the last one listed.
    @inline(__always)
    private func listWord(_ word: Int32, pair: Int32) {
        let list = pairWords.base + Int(pair)
        if list.pointee.count == 0 || list.pointee[list.pointee.count - 1] != word {
            list.pointee.append(word)
        }
    }

    private mutating func countInitialPairs() {
        for word in 0..<wordStart.count {
            let s = symbols.base + wordStart[word]
            let n = Int(wordLength[word])
            let frequency = wordFrequency[word]
            for k in 0..<(n - 1) {
                let pair = pairId(s[k], s[k + 1])
                pairCount[Int(pair)] += frequency
                listWord(Int32(word), pair: pair)
            }
        }
        var entries: [PairEntry] = []
        entries.reserveCapacity(pairCount.count)
        for pair in 0..<pairCount.count where pairCount[pair] > 0 {
            entries.append(entry(Int32(pair)))
        }
        heap = Heap(entries)
    }

    @inline(__always)
    private func entry(_ pair: Int32) -> PairEntry {
        PairEntry(count: pairCount[Int(pair)], pair: pair, left: pairLeft[Int(pair)],
                  right: pairRight[Int(pair)], tokens: tokens.spans)
    }

    /// Adds `delta` to the pair's count, remembering its count before this merge.
    @inline(__always)
    private mutating func adjust(_ pair: Int32, by delta: Int64, stamp: Int32) {
        let p = Int(pair)
        if pairStamp[p] != stamp {
            pairStamp[p] = stamp
            pairCountBefore[p] = pairCount[p]
            touched.append(pair)
        }
        pairCount[p] += delta
    }

    // MARK: - Merging

    /// Makes up to `maxMerges` merges and returns them in order.
    mutating func run(maxMerges: Int, progress: (Int) -> Void) -> [MergePair] {
        var merges: [MergePair] = []
        merges.reserveCapacity(max(0, min(maxMerges, possibleMerges)))
        let reportEvery = max(1, min(maxMerges, possibleMerges) / 100)
        progress(0)
        while merges.count < maxMerges, let top = heap.popMax() {
            let pair = Int(top.pair)
            guard top.count == pairCount[pair], top.count > 0 else { continue }  // stale entry
            let left = pairLeft[pair], right = pairRight[pair]
            let leftBytes = tokens.bytes(left), rightBytes = tokens.bytes(right)
            merges.append(MergePair(leftBytes, rightBytes))
            let joined = leftBytes + rightBytes
            let symbol: Int32
            if let existing = idForBytes[joined] {
                symbol = existing
            } else {
                symbol = nextId
                idForBytes[joined] = symbol
                tokens.set(id: Int(symbol), bytes: joined)
            }
            nextId += 1
            apply(pair: top.pair, left: left, right: right, symbol: symbol, stamp: Int32(merges.count))
            if merges.count % reportEvery == 0 { progress(merges.count) }
        }
        progress(merges.count)
        return merges
    }

    /// Replaces every (left, right) by `symbol` in the words listed for `pair`.
    private mutating func apply(pair: Int32, left: Int32, right: Int32, symbol: Int32, stamp: Int32) {
        let list = pairWords[Int(pair)]
        pairWords[Int(pair)] = RawVector(capacity: 4)
        touched.removeAll()
        for k in 0..<list.count {
            let word = list[k]
            if wordStamp[Int(word)] == stamp { continue }
            wordStamp[Int(word)] = stamp
            mergeWord(Int(word), left: left, right: right, symbol: symbol, stamp: stamp)
        }
        list.deallocate()
        precondition(pairCount[Int(pair)] == 0, "merged pair keeps a count")
        for k in 0..<touched.count {
            let p = touched[k]
            let count = pairCount[Int(p)]
            if count > 0 && count != pairCountBefore[Int(p)] {
                heap.insert(entry(p))
            } else if count == 0 && p != pair {
                // No word holds the pair now; a later merge that recreates it lists it afresh.
                (pairWords.base + Int(p)).pointee.removeAll()
            }
        }
    }

    /// Rewrites one word and adjusts the counts of the pairs around each merge site.
    @inline(__always)
    private mutating func mergeWord(_ word: Int, left: Int32, right: Int32, symbol: Int32, stamp: Int32) {
        let s = symbols.base + wordStart[word]
        let n = Int(wordLength[word])
        var first = -1
        for k in 0..<(n - 1) where s[k] == left && s[k + 1] == right {
            first = k
            break
        }
        if first < 0 { return }  // a stale listing
        let frequency = wordFrequency[word]
        let old = oldMarks.base, new = newMarks.base

        // Mark the merge sites: 1 = first symbol of a site, 2 = second, 0 = untouched.
        let from = max(0, first - 1)
        old[from] = 0
        var k = first
        while k < n {
            if k + 1 < n && s[k] == left && s[k + 1] == right {
                old[k] = 1; old[k + 1] = 2; k += 2
            } else {
                old[k] = 0; k += 1
            }
        }
        // The pairs that overlap a site disappear.
        for k in from..<(n - 1) where old[k] != 0 || old[k + 1] != 0 {
            adjust(pairId(s[k], s[k + 1]), by: -frequency, stamp: stamp)
        }
        // Rewrite in place; symbols before `first` do not move.
        var out = first
        k = first
        new[from] = 0
        while k < n {
            if old[k] == 1 {
                s[out] = symbol; new[out] = 1; k += 2
            } else {
                s[out] = s[k]; new[out] = 0; k += 1
            }
            out += 1
        }
        // The pairs that touch a new symbol appear.
        for m in from..<(out - 1) where new[m] != 0 || new[m + 1] != 0 {
            let created = pairId(s[m], s[m + 1])
            adjust(created, by: frequency, stamp: stamp)
            listWord(Int32(word), pair: created)
        }
        wordLength[word] = Int32(out)
    }
}

// MARK: - Heap entries

/// A (count, pair) entry of the merge queue. The maximum is the most frequent pair, ties
/// going to the lexicographically greatest (left bytes, right bytes).
struct PairEntry: Comparable {
    var count: Int64
    var pair: Int32
    var left: Int32
    var right: Int32
    /// The token table (fixed capacity, so the pointer stays valid) for tie-breaks.
    var tokens: UnsafePointer<TokenTable.Span>

    static func == (a: PairEntry, b: PairEntry) -> Bool {
        a.count == b.count && a.left == b.left && a.right == b.right
    }

    static func < (a: PairEntry, b: PairEntry) -> Bool {
        if a.count != b.count { return a.count < b.count }
        if a.left != b.left {
            return TokenTable.compare(a.tokens[Int(a.left)], a.tokens[Int(b.left)]) < 0
        }
        return TokenTable.compare(a.tokens[Int(a.right)], a.tokens[Int(b.right)]) < 0
    }
}
