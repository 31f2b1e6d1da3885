// The GPT-2 pre-tokenizer as a hand-written scanner over UTF-8 bytes.
//
// It yields exactly the pieces Python's `regex` module yields for
//
//     '(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// Reading the alternatives in order at a piece start gives these rules:
// 1. `'` followed by s, d, m, t (or ll, ve, re; lower case only) is a contraction piece.
// 2. A run of letters, of numbers, or of "other" scalars (neither letter, number nor
//    space) is a piece; one U+0020 SPACE directly before such a run joins it.
// 3. A run of white space at the end of the input is one piece. Before a non-space scalar
//    the run gives up its last scalar (`\s+(?!\S)` backtracks by one), which then becomes
//    the space prefix of the next word (rule 2) or, when it is not U+0020, a piece of its
//    own (`\s+`). A run of one scalar before a non-space scalar is a piece of its own.
//
// Invalid UTF-8 bytes are classed "other" one byte at a time, so pieces group them the
// way `regex` groups U+FFFD after Python decodes with errors="replace".

/// The GPT-2 / CS336 pre-tokenizer: splits text into the pieces that byte-level BPE merges
/// within, never across.
public enum GPT2Pretokenizer {
    /// The pattern this scanner implements, as Python's `regex` module spells it.
    public static let pattern =
        #"'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

    /// Calls `body` with the byte range of every piece of `bytes`, in order.
    ///
    /// The pieces cover the input contiguously: the first starts at 0, each starts where
    /// the previous ended, and the last ends at `bytes.count`.
    /// - Parameters:
    ///   - bytes: UTF-8 text. Invalid bytes never trap; each is classed as a symbol.
    ///   - body: receives each piece's byte offsets into `bytes`.
    public static func forEachPiece(in bytes: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let scanner = Scanner(base: base, count: bytes.count, table: ScalarClassTable.shared)
        scanner.run(body)
    }

    /// The pieces of `text` as strings (a convenience for tests and tools; the trainer and
    /// the encoder use ``forEachPiece(in:_:)``).
    public static func pieces(_ text: String) -> [String] {
        var utf8 = Array(text.utf8)
        var result: [String] = []
        utf8.withUnsafeMutableBufferPointer { buffer in
            let bytes = UnsafeBufferPointer(buffer)
            forEachPiece(in: bytes) { range in
                result.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self))
            }
        }
        return result
    }
}

// MARK: - Scanner

extension GPT2Pretokenizer {
    /// The scalar classes of the pattern.
    enum ScalarClass {
        static let other: UInt8 = 0
        static let letter: UInt8 = 1
        static let number: UInt8 = 2
        static let space: UInt8 = 3
    }

    /// One pass over a buffer; all state is local so the hot loop stays in registers.
    struct Scanner {
        let base: UnsafePointer<UInt8>
        let count: Int
        let table: ScalarClassTable

        @inline(__always)
        func classify(_ i: Int) -> (cls: UInt8, length: Int) {
            let b = base[i]
            if b < 0x80 { return (table.ascii[Int(b)], 1) }
            return classifyMultiByte(i, lead: b)
        }

        /// Decodes the scalar at `i` (lead byte `lead` >= 0x80). An invalid or truncated
        /// sequence yields one byte of class "other".
        @inline(__always)
        func classifyMultiByte(_ i: Int, lead: UInt8) -> (cls: UInt8, length: Int) {
            let remaining = count - i
            if lead >= 0xC2 && lead <= 0xDF {
                if remaining >= 2 {
                    let c1 = base[i + 1]
                    if c1 & 0xC0 == 0x80 {
                        let scalar = (UInt32(lead & 0x1F) << 6) | UInt32(c1 & 0x3F)
                        return (table.lookup(scalar), 2)
                    }
                }
            } else if lead >= 0xE0 && lead <= 0xEF {
                if remaining >= 3 {
                    let c1 = base[i + 1], c2 = base[i + 2]
                    let low: UInt8 = lead == 0xE0 ? 0xA0 : 0x80
                    let high: UInt8 = lead == 0xED ? 0x9F : 0xBF
                    if c1 >= low && c1 <= high && c2 & 0xC0 == 0x80 {
                        let scalar = (UInt32(lead & 0x0F) << 12) | (UInt32(c1 & 0x3F) << 6) | UInt32(c2 & 0x3F)
                        return (table.lookup(scalar), 3)
                    }
                }
            } else if lead >= 0xF0 && lead <= 0xF4 {
                if remaining >= 4 {
                    let c1 = base[i + 1], c2 = base[i + 2], c3 = base[i + 3]
                    let low: UInt8 = lead == 0xF0 ? 0x90 : 0x80
                    let high: UInt8 = lead == 0xF4 ? 0x8F : 0xBF
                    if c1 >= low && c1 <= high && c2 & 0xC0 == 0x80 && c3 & 0xC0 == 0x80 {
                        let scalar = (UInt32(lead & 0x07) << 18) | (UInt32(c1 & 0x3F) << 12)
                            | (UInt32(c2 & 0x3F) << 6) | UInt32(c3 & 0x3F)
                        return (table.lookup(scalar), 4)
                    }
                }
            }
            return (ScalarClass.other, 1)
        }

        /// The length of a contraction piece starting at `i` (which holds `'`), or 0.
        @inline(__always)
        func contractionLength(at i: Int) -> Int {
            guard i + 1 < count else { return 0 }
            let b1 = base[i + 1]
            switch b1 {
            case UInt8(ascii: "s"), UInt8(ascii: "d"), UInt8(ascii: "m"), UInt8(ascii: "t"):
                return 2
            case UInt8(ascii: "l"), UInt8(ascii: "v"), UInt8(ascii: "r"):
                guard i + 2 < count else { return 0 }
                let b2 = base[i + 2]
                if b1 == UInt8(ascii: "l") { return b2 == UInt8(ascii: "l") ? 3 : 0 }
                return b2 == UInt8(ascii: "e") ? 3 : 0
            default:
                return 0
            }
        }

        func run(_ body: (Range<Int>) -> Void) {
            let ascii = table.ascii
            var i = 0
            while i < count {
                let start = i
                let lead = base[i]
                if lead == UInt8(ascii: "'") {
                    let length = contractionLength(at: i)
                    if length > 0 {
                        body(start..<(start + length))
                        i += length
                        continue
                    }
                }
                var (cls, length) = classify(i)
                var j = i + length
                // Rule 2: one U+0020 joins a following letter, number or other run.
                if lead == 0x20 && j < count {
                    let next = classify(j)
                    if next.cls != ScalarClass.space {
                        cls = next.cls
                        j += next.length
                    }
                }
                if cls != ScalarClass.space {
                    while j < count {
                        let b = base[j]
                        if b < 0x80 {
                            if ascii[Int(b)] != cls { break }
                            j += 1
                        } else {
                            let next = classifyMultiByte(j, lead: b)
                            if next.cls != cls { break }
                            j += next.length
                        }
                    }
                    body(start..<j)
                    i = j
                    continue
                }
                // Rule 3: a white-space run; `last` is where its final scalar starts.
                var last = i
                while j < count {
                    let next = classify(j)
                    if next.cls != ScalarClass.space { break }
                    last = j
                    j += next.length
                }
                if j < count && last > start { j = last }
                body(start..<j)
                i = j
            }
        }
    }
}

// MARK: - Scalar classes

extension GPT2Pretokenizer {
    /// The class of every Unicode scalar: a 128-entry table for ASCII and a two-stage table
    /// (256-scalar blocks, uniform blocks shared) for the rest, built once from
    /// ``unicodeClassRanges``. Never freed: it lives as long as the process.
    final class ScalarClassTable: @unchecked Sendable {
        static let shared = ScalarClassTable(ranges: unicodeClassRanges)

        /// Classes of U+0000...U+007F.
        let ascii: UnsafeMutablePointer<UInt8>
        /// Block index of each 256-scalar block of U+0000...U+10FFFF.
        let stage1: UnsafeMutablePointer<UInt16>
        /// The distinct blocks, 256 classes each.
        let stage2: UnsafeMutablePointer<UInt8>

        static let blockCount = 0x110000 >> 8

        init(ranges text: String) {
            // Parse "FIRST-LAST:CLASS" entries (sorted, non-overlapping).
            var ranges: [(first: Int, last: Int, cls: UInt8)] = []
            for entry in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
                let parts = entry.split(whereSeparator: { $0 == "-" || $0 == ":" })
                guard parts.count == 3, let first = Int(parts[0], radix: 16), let last = Int(parts[1], radix: 16),
                      let cls = UInt8(parts[2]), first <= last, (last < 0x110000),
                      (first > (ranges.last?.last ?? -1))
                else { preconditionFailure("malformed generated Unicode range \(entry)") }
                ranges.append((first, last, cls))
            }
            // Blocks 0...3 are uniform (every scalar of class 0...3); mixed blocks follow.
            var blocks = [UInt8](repeating: 0, count: 4 << 8)
            for cls in 1..<4 { for k in 0..<256 { blocks[(cls << 8) + k] = UInt8(cls) } }
            stage1 = .allocate(capacity: Self.blockCount)
            var next = 0  // the first range that may touch the current block
            for block in 0..<Self.blockCount {
                let low = block << 8, high = low + 255
                while next < ranges.count && ranges[next].last < low { next += 1 }
                if next == ranges.count || ranges[next].first > high {
                    stage1[block] = 0
                } else if ranges[next].first <= low && ranges[next].last >= high {
                    stage1[block] = UInt16(ranges[next].cls)
                } else {
                    var content = [UInt8](repeating: 0, count: 256)
                    var k = next
                    while k < ranges.count && ranges[k].first <= high {
                        for scalar in max(low, ranges[k].first)...min(high, ranges[k].last) {
                            content[scalar - low] = ranges[k].cls
                        }
                        k += 1
                    }
                    stage1[block] = UInt16(blocks.count >> 8)
                    blocks += content
                }
            }
            stage2 = .allocate(capacity: blocks.count)
            stage2.initialize(from: blocks, count: blocks.count)
            ascii = .allocate(capacity: 128)
            for k in 0..<128 { ascii[k] = stage2[Int(stage1[0]) << 8 | k] }
        }

        /// The class of `scalar` (< 0x110000).
        @inline(__always)
        func lookup(_ scalar: UInt32) -> UInt8 {
            let block = Int(stage1[Int(scalar >> 8)])
            return stage2[(block << 8) | Int(scalar & 0xFF)]
        }
    }
}
