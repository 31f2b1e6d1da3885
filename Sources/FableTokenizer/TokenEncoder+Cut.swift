import Foundation

// Where text that is still arriving can be cut so that encoding the part before the cut
// on its own gives exactly the ids that encoding the whole text would give there, whatever
// follows. Streaming encoding and the parallel file encoder both cut text this way.
//
// Two things can reach across a cut:
// 1. A special token: the tail of the text may be the start of one (or a complete one
//    that a longer special token could extend). The cut stays before such a tail.
// 2. A pre-token piece: matching the GPT-2 pattern at a piece start looks at the piece and
//    at most two more characters (the contractions 're/'ve/'ll read three characters;
//    a greedy run reads the character that ends it; `\s+(?!\S)` reads one character past
//    its match). So a piece followed by at least two characters of known text is final,
//    and so is every piece before it. Eight bytes always hold two UTF-8 characters.
//    The text before the cut is then encoded on its own, where it ends the text; only
//    `\s+(?!\S)` reads the end of text differently (a white-space run keeps its last
//    character there), so the cut also needs a piece that does not end in white space.

extension TokenEncoder {
    /// Known bytes a piece end needs after it to be final (two UTF-8 characters).
    static let pieceLookahead = 8

    /// The length of the longest prefix of `bytes` whose encoding is final: encoding
    /// `bytes[..<cut]` alone gives the same ids as encoding `bytes` followed by any text.
    ///
    /// - Parameters:
    ///   - bytes: text whose continuation is not known yet.
    ///   - specialTokens: whether special tokens are matched (as in ``encode(_:into:specialTokens:)``).
    /// - Returns: a cut position in `0...bytes.count` (0 when nothing is final yet).
    public func finalPrefixLength(of bytes: UnsafeBufferPointer<UInt8>, specialTokens: Bool = true) -> Int {
        let end = bytes.count
        let matcher = core.specials
        var open = end  // text from here on may still become (part of) a special token
        var settled = 0  // the end of the last special token match that is final
        if specialTokens && !matcher.isEmpty {
            open = specialPrefixStart(bytes)
            var position = 0
            while let match = matcher.nextMatch(in: bytes, from: position), match.start < open {
                settled = match.start + match.length
                position = settled
            }
            if settled >= open { return settled }
        }
        // The ordinary text [settled, open): its last piece end with enough text after it.
        guard open - settled > Self.pieceLookahead, let base = bytes.baseAddress else { return settled }
        let segment = UnsafeBufferPointer(start: base + settled, count: open - settled)
        let limit = segment.count - Self.pieceLookahead
        var cut = 0
        let scanner = GPT2Pretokenizer.Scanner(base: segment.baseAddress!, count: segment.count,
                                              table: GPT2Pretokenizer.ScalarClassTable.shared)
        GPT2Pretokenizer.forEachPiece(in: segment) { range in
            if range.upperBound <= limit && !Self.endsInSpace(range, scanner) { cut = range.upperBound }
        }
        return settled + cut
    }

    /// Whether the last character of the piece `range` is white space.
    private static func endsInSpace(_ range: Range<Int>, _ scanner: GPT2Pretokenizer.Scanner) -> Bool {
        var start = range.upperBound - 1
        // Step back over continuation bytes to the start of the last character.
        while start > range.lowerBound && range.upperBound - start < 4 && scanner.base[start] & 0xC0 == 0x80 { start -= 1 }
        let last = scanner.classify(start)
        // A length that does not reach the end means the last byte is invalid UTF-8: a symbol.
        return start + last.length == range.upperBound && last.cls == GPT2Pretokenizer.ScalarClass.space
    }

    /// The earliest position whose tail is a proper prefix of some special token, or
    /// `bytes.count` when there is none.
    func specialPrefixStart(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        let end = bytes.count
        guard let base = bytes.baseAddress else { return end }
        let longest = core.specialTokens.map(\.bytes.count).max() ?? 0
        var start = max(0, end - longest + 1)
        while start < end {
            let tail = end - start
            for special in core.specialTokens where special.bytes.count > tail {
                let isPrefix = special.bytes.withUnsafeBufferPointer { memcmp($0.baseAddress!, base + start, tail) == 0 }
                if isPrefix { return start }
            }
            start += 1
        }
        return end
    }
}
