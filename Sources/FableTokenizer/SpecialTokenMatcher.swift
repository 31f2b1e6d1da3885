import Foundation

/// Finds special tokens in UTF-8 text the way CS336 splits on them:
/// `re.split("|".join(map(re.escape, sorted(specials, key=len, reverse=True))), text)`,
/// that is the leftmost occurrence wins and, at one position, the longest token wins.
struct SpecialTokenMatcher {
    /// The tokens' bytes, longest first (ties keep the caller's order).
    let tokens: [[UInt8]]
    /// Whether a byte starts some token.
    private let isFirstByte: [Bool]
    /// The common first byte when every token starts with the same byte (memchr path).
    private let singleFirstByte: UInt8?

    init(_ specialTokens: [String]) {
        let encoded = specialTokens.map { Array($0.utf8) }.filter { !$0.isEmpty }
        tokens = encoded.enumerated()
            .sorted { ($0.element.count, -$0.offset) > ($1.element.count, -$1.offset) }
            .map(\.element)
        var firsts = [Bool](repeating: false, count: 256)
        for token in tokens { firsts[Int(token[0])] = true }
        isFirstByte = firsts
        let distinct = Set(tokens.map { $0[0] })
        singleFirstByte = distinct.count == 1 ? distinct.first : nil
    }

    var isEmpty: Bool { tokens.isEmpty }

    /// The first occurrence at or after `from`: its start and its length in bytes.
    func nextMatch(in buffer: UnsafeBufferPointer<UInt8>, from: Int) -> (start: Int, length: Int)? {
        guard !tokens.isEmpty, let base = buffer.baseAddress else { return nil }
        let count = buffer.count
        var position = from
        while position < count {
            if let first = singleFirstByte {
                guard let found = memchr(base + position, Int32(first), count - position) else { return nil }
                position = UnsafePointer<UInt8>(found.assumingMemoryBound(to: UInt8.self)) - base
            } else {
                while position < count && !isFirstByte[Int(base[position])] { position += 1 }
                if position == count { return nil }
            }
            if let length = matchLength(in: buffer, at: position) { return (position, length) }
            position += 1
        }
        return nil
    }

    /// The length of the longest token that occurs at `position`, if any.
    func matchLength(in buffer: UnsafeBufferPointer<UInt8>, at position: Int) -> Int? {
        guard let base = buffer.baseAddress else { return nil }
        for token in tokens where position + token.count <= buffer.count {
            let equal = token.withUnsafeBufferPointer { memcmp($0.baseAddress!, base + position, token.count) == 0 }
            if equal { return token.count }
        }
        return nil
    }

    /// True when some token occurrence starts before `position` and ends after it, so a cut
    /// at `position` would split it.
    func straddles(_ position: Int, in buffer: UnsafeBufferPointer<UInt8>) -> Bool {
        for token in tokens where token.count > 1 {
            for back in 1..<token.count where position - back >= 0 {
                if position - back + token.count > buffer.count { continue }
                if matchLength(of: token, in: buffer, at: position - back) { return true }
            }
        }
        return false
    }

    private func matchLength(of token: [UInt8], in buffer: UnsafeBufferPointer<UInt8>, at start: Int) -> Bool {
        token.withUnsafeBufferPointer { memcmp($0.baseAddress!, buffer.baseAddress! + start, token.count) == 0 }
    }

    /// Calls `body` with every stretch of text between special-token occurrences
    /// (empty stretches skipped); the tokens themselves are dropped.
    func forEachSegment(in buffer: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
        var start = 0
        var position = 0
        while let match = nextMatch(in: buffer, from: position) {
            if match.start > start { body(start..<match.start) }
            start = match.start + match.length
            position = start
        }
        if buffer.count > start { body(start..<buffer.count) }
    }
}
