import Foundation
import Testing
@testable import FableTokenizer

/// A small deterministic generator for property tests (SplitMix64).
private struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

@Suite("BPE trainer parts")
struct TrainerPartsTests {
    @Test("UTF-8 repair equals Swift's String(decoding:) on random bytes")
    func repairMatchesSwift() {
        var rng = SplitMix(state: 42)
        let alphabet: [UInt8] = [0x61, 0x20, 0x80, 0xBF, 0xC2, 0xC0, 0xE0, 0xA0, 0xED, 0x9F, 0xF0, 0x90, 0xF4, 0x8F, 0xFF, 0xE2, 0x82, 0xAC]
        for _ in 0..<2000 {
            let bytes = (0..<rng.below(12)).map { _ in alphabet[rng.below(alphabet.count)] }
            let expected = Array(String(decoding: bytes, as: UTF8.self).utf8)
            let (repaired, replacements) = bytes.withUnsafeBufferPointer { UTF8Repair.repaired($0) }
            #expect(repaired == expected, "\(bytes)")
            let valid = String(validating: bytes, as: UTF8.self) != nil
            let firstInvalid = bytes.withUnsafeBufferPointer { UTF8Repair.firstInvalidOffset(in: $0) }
            #expect((firstInvalid == nil) == valid)
            #expect((replacements == 0) == valid)
        }
    }

    @Test("chunks concatenate to the input and end before a separator or a safe newline")
    func chunkBoundaries() throws {
        var rng = SplitMix(state: 7)
        let pieces = ["hello", " world", "\n", "<|endoftext|>", "  ", "x\n", "\u{3000}\n", "'s", "日本", "a \r\n", "b\r\n", "\t\n"]
        var text = ""
        for _ in 0..<3000 { text += pieces[rng.below(pieces.count)] }
        let bytes = Array(text.utf8)
        for (chunkSize, specials) in [(1, ["<|endoftext|>"]), (100, ["<|endoftext|>"]), (100, []), (5000, ["<|endoftext|>"])] {
            let matcher = SpecialTokenMatcher(specials)
            let reader = ChunkReader(source: MemoryByteSource(bytes), matcher: matcher, chunkSize: chunkSize)
            let chunk = ChunkBuffer(capacity: 16)
            var joined: [UInt8] = []
            var chunks = 0
            while try reader.next(into: chunk) {
                #expect(chunk.startOffset == joined.count)
                joined += Array(chunk.bytes)
                chunks += 1
                if joined.count < bytes.count {
                    let next = Array(bytes[joined.count..<min(bytes.count, joined.count + 13)])
                    let atSeparator = specials.isEmpty ? false : next == Array("<|endoftext|>".utf8)
                    let asciiSpace: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D]
                    let atLineEnd = next.first.map(asciiSpace.contains) == true
                        && joined.last! < 0x80 && !asciiSpace.contains(joined.last!)
                    #expect(atSeparator || atLineEnd, "chunk \(chunks) ends at \(joined.count)")
                }
            }
            #expect(joined == bytes)
            #expect(chunks > 1)
        }
    }

    @Test("pre-token counts agree with a dictionary")
    func countsAgree() {
        var rng = SplitMix(state: 99)
        let table = PretokenCounts(expectedDistinct: 4)
        var reference: [[UInt8]: Int64] = [:]
        for _ in 0..<20_000 {
            let key = (0..<(1 + rng.below(40))).map { _ in UInt8(rng.below(3)) }
            reference[key, default: 0] += 1
            key.withUnsafeBufferPointer { table.add($0) }
        }
        #expect(table.count == reference.count)
        func contents(_ counts: PretokenCounts) -> [[UInt8]: Int64] {
            var result: [[UInt8]: Int64] = [:]
            counts.forEach { key, count in result[Array(key), default: 0] += count }
            return result
        }
        #expect(contents(table) == reference)
        let other = PretokenCounts()
        other.merge(table)
        other.merge(table)
        #expect(other.count == table.count)
        #expect(contents(other) == reference.mapValues { 2 * $0 })
    }

    @Test("special tokens: leftmost occurrence, longest first at one position")
    func specialMatcher() {
        let matcher = SpecialTokenMatcher(["<|end", "<|endoftext|>", "ab"])
        let text = Array("x<|endoftext|>y<|end|>zab".utf8)
        var segments: [String] = []
        text.withUnsafeBufferPointer { buffer in
            matcher.forEachSegment(in: buffer) { segments.append(String(decoding: buffer[$0], as: UTF8.self)) }
        }
        #expect(segments == ["x", "y", "|>z"])
    }
}

@Suite("BPE trainer chunking")
struct TrainerChunkingTests {
    @Test("Windows line ends without separators still cut into chunks, same result")
    func crlfWithoutSeparators() throws {
        let line = "The quick brown fox, it's 42 \r\nJumps over\r\n\r\n  the lazy dog.\r\n"
        let text = String(repeating: line, count: 400)
        let one = try BPETrainer(.init(vocabSize: 300, specialTokens: [], threads: 1)).train(text: text)
        let many = try BPETrainer(.init(vocabSize: 300, specialTokens: [], threads: 3, chunkSize: 500)).train(text: text)
        #expect(many.statistics.chunks > 20)
        #expect(many == one)
        #expect(many.statistics.pretokens == one.statistics.pretokens)
    }
}
