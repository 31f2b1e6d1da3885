import Foundation

// BPE within one piece: start from one token per byte and repeatedly merge the adjacent
// pair with the lowest merge rank (the leftmost one when the same pair occurs twice),
// until no adjacent pair has a merge. Both functions leave the result in `tokens`.

extension TokenEncoder {
    // MARK: - Short pieces: scan for the best pair

    /// Merges a piece by scanning all pairs for the lowest rank after every merge:
    /// O(n^2) but branch-light and allocation-free, the fastest for the short pieces of text.
    /// - Returns: the number of ids left in `tokens`.
    func mergeShort(_ piece: UnsafePointer<UInt8>, _ count: Int) -> Int {
        reserveScratch(count)
        let tokens = self.tokens, pairs = self.pairs
        let byteTokens = core.byteTokens, merges = core.merges
        for i in 0..<count { tokens[i] = byteTokens[Int(piece[i])] }
        for i in 0..<(count - 1) { pairs[i] = merges.lookup(tokens[i], tokens[i + 1]) }
        var length = count
        while length > 1 {
            var best = UInt64.max
            var at = 0
            for i in 0..<(length - 1) where pairs[i] < best {
                best = pairs[i]
                at = i
            }
            if best >> 32 == UInt64(MergeTable.noRank) { break }
            tokens[at] = UInt32(truncatingIfNeeded: best)
            // Remove token at + 1 and pair at + 1.
            let tail = length - at - 2
            if tail > 0 {
                memmove(tokens + at + 1, tokens + at + 2, tail * MemoryLayout<UInt32>.stride)
                memmove(pairs + at + 1, pairs + at + 2, (tail - 1 > 0 ? tail - 1 : 0) * MemoryLayout<UInt64>.stride)
            }
            length -= 1
            if at > 0 { pairs[at - 1] = merges.lookup(tokens[at - 1], tokens[at]) }
            if at < length - 1 { pairs[at] = merges.lookup(tokens[at], tokens[at + 1]) }
        }
        return length
    }

    // MARK: - Long pieces: a heap of pairs over a linked list

    /// Merges a long piece in O(n log n): tokens form a doubly linked list over their byte
    /// positions and candidate pairs sit in a min-heap keyed (rank, position), so ties go
    /// to the leftmost pair as in the scan. Stale heap entries are skipped when popped.
    /// - Returns: the number of ids left in `tokens`.
    func mergeLong(_ piece: UnsafePointer<UInt8>, _ count: Int) -> Int {
        reserveScratch(count)
        let byteTokens = core.byteTokens, merges = core.merges
        let dead = UInt32.max
        let node = UnsafeMutablePointer<UInt32>.allocate(capacity: count)
        let next = UnsafeMutablePointer<Int32>.allocate(capacity: count)
        let previous = UnsafeMutablePointer<Int32>.allocate(capacity: count)
        var heap = PairHeap(capacity: 3 * count)
        defer {
            node.deallocate()
            next.deallocate()
            previous.deallocate()
            heap.deallocate()
        }
        for i in 0..<count {
            node[i] = byteTokens[Int(piece[i])]
            next[i] = i + 1 < count ? Int32(i + 1) : -1
            previous[i] = Int32(i - 1)
        }
        for i in 0..<(count - 1) {
            let rank = merges.lookup(node[i], node[i + 1]) >> 32
            if rank != UInt64(MergeTable.noRank) { heap.appendUnordered(rank << 32 | UInt64(i)) }
        }
        heap.heapify()
        while let entry = heap.popMin() {
            let rank = entry >> 32
            let left = Int(entry & 0xFFFF_FFFF)
            guard node[left] != dead else { continue }
            let right = Int(next[left])
            guard right >= 0 else { continue }
            let found = merges.lookup(node[left], node[right])
            guard found >> 32 == rank else { continue }
            // Merge right into left.
            node[left] = UInt32(truncatingIfNeeded: found)
            node[right] = dead
            let after = next[right]
            next[left] = after
            if after >= 0 { previous[Int(after)] = Int32(left) }
            let before = previous[left]
            if before >= 0 {
                let pair = merges.lookup(node[Int(before)], node[left]) >> 32
                if pair != UInt64(MergeTable.noRank) { heap.push(pair << 32 | UInt64(before)) }
            }
            if after >= 0 {
                let pair = merges.lookup(node[left], node[Int(after)]) >> 32
                if pair != UInt64(MergeTable.noRank) { heap.push(pair << 32 | UInt64(left)) }
            }
        }
        var length = 0
        var i: Int32 = 0
        while i >= 0 {
            tokens[length] = node[Int(i)]
            length += 1
            i = next[Int(i)]
        }
        return length
    }
}

// MARK: - A binary min-heap of UInt64 keys

/// A fixed-capacity 4-ary min-heap of (rank << 32 | position) keys on raw memory: half
/// the levels of a binary heap, and the four children share a cache line.
struct PairHeap {
    private let storage: UnsafeMutablePointer<UInt64>
    private let capacity: Int
    private var count = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 1)
        storage = .allocate(capacity: self.capacity)
    }

    func deallocate() { storage.deallocate() }

    /// Adds a key without restoring heap order; call ``heapify()`` before popping.
    mutating func appendUnordered(_ key: UInt64) {
        precondition(count < capacity, "pair heap overflow")
        storage[count] = key
        count += 1
    }

    /// Restores heap order in O(n).
    mutating func heapify() {
        var i = (count - 2) / 4
        while i >= 0 {
            siftDown(i)
            i -= 1
        }
    }

    mutating func push(_ key: UInt64) {
        precondition(count < capacity, "pair heap overflow")
        var i = count
        count += 1
        while i > 0 {
            let parent = (i - 1) / 4
            if storage[parent] <= key { break }
            storage[i] = storage[parent]
            i = parent
        }
        storage[i] = key
    }

    mutating func popMin() -> UInt64? {
        guard count > 0 else { return nil }
        let top = storage[0]
        count -= 1
        if count > 0 {
            storage[0] = storage[count]
            siftDown(0)
        }
        return top
    }

    private func siftDown(_ start: Int) {
        var i = start
        let key = storage[i]
        while true {
            let first = 4 * i + 1
            if first >= count { break }
            var child = first
            var smallest = storage[first]
            let last = min(first + 4, count)
            var next = first + 1
            while next < last {
                let candidate = storage[next]
                if candidate < smallest { smallest = candidate; child = next }
                next += 1
            }
            if key <= smallest { break }
            storage[i] = smallest
            i = child
        }
        storage[i] = key
    }
}
