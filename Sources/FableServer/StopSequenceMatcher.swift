/// Finds stop sequences in text that arrives a piece at a time and holds back whatever
/// could still turn out to be the start of one, so a streamed reply never shows part of a
/// stop sequence (OpenAI's `stop`: the sequence itself is not returned).
///
/// Works on UTF-8 bytes: the pieces and the stop sequences are valid UTF-8, so a match or a
/// held-back prefix of a stop sequence always starts on a character boundary.
///
/// With `trimsWhitespace` (chat replies) leading whitespace is dropped and trailing
/// whitespace is released only once more text follows it, so a reply cut at "\nUser:"
/// does not end in the blank line before it.
struct StopSequenceMatcher {
    let stops: [[UInt8]]
    let trimsWhitespace: Bool
    /// Bytes received but not yet released.
    private var pending: [UInt8] = []
    /// True once a non-whitespace byte has been released (for trimming).
    private var started = false
    /// True after a stop sequence matched; later text is ignored.
    private(set) var stopped = false

    init(stops: [String], trimsWhitespace: Bool = false) {
        self.stops = stops.map { Array($0.utf8) }.filter { !$0.isEmpty }
        self.trimsWhitespace = trimsWhitespace
    }

    /// Adds `text`; returns the text that is now safe to show, and whether a stop
    /// sequence matched (nothing from its start on is ever returned).
    mutating func append(_ text: String) -> (text: String, stopped: Bool) {
        guard !stopped else { return ("", true) }
        pending += text.utf8
        if let match = earliestMatch() {
            stopped = true
            pending.removeSubrange(match...)
            return (release(all: true), true)
        }
        return (release(all: false), false)
    }

    /// Everything still held back (the generation ended without a stop sequence).
    mutating func finish() -> String {
        guard !stopped else { return "" }
        return release(all: true)
    }

    // MARK: - Parts

    /// Where the first stop sequence starts in `pending`, if one is there.
    private func earliestMatch() -> Int? {
        var best: Int?
        for stop in stops where stop.count <= pending.count {
            var i = 0
            while i + stop.count <= pending.count, i < (best ?? Int.max) {
                if pending[i] == stop[0] && pending[i..<(i + stop.count)].elementsEqual(stop) { best = i; break }
                i += 1
            }
        }
        return best
    }

    /// The length of the longest suffix of `pending` that is a proper prefix of a stop.
    private func heldBackForStops() -> Int {
        var longest = 0
        for stop in stops {
            var length = min(stop.count - 1, pending.count)
            while length > longest {
                if pending[(pending.count - length)...].elementsEqual(stop[..<length]) { longest = length; break }
                length -= 1
            }
        }
        return longest
    }

    /// Releases the safe part of `pending` (all of it when `all`; trailing whitespace is
    /// then dropped when trimming).
    private mutating func release(all: Bool) -> String {
        var end = all ? pending.count : pending.count - heldBackForStops()
        if trimsWhitespace {
            while end > 0 && Self.isWhitespace(pending[end - 1]) { end -= 1 }
        }
        var start = 0
        if trimsWhitespace && !started {
            while start < end && Self.isWhitespace(pending[start]) { start += 1 }
            if start == end {
                // Only whitespace so far: drop it (leading) and keep waiting.
                pending.removeSubrange(0..<start)
                if all { pending.removeAll() }
                return ""
            }
            started = true
        }
        let text = String(decoding: pending[start..<end], as: UTF8.self)
        pending.removeSubrange(0..<end)
        if all { pending.removeAll() }
        return text
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }
}
