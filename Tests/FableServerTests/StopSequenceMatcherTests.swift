import Testing
@testable import FableServer

/// The stop-sequence matcher against the plain definition: the released text is the whole
/// text up to the first occurrence of any stop sequence, however the pieces are split.
@Suite("Stop sequences")
struct StopSequenceMatcherTests {
    /// Feeds `pieces` one by one and returns what was released and whether it stopped.
    static func run(_ pieces: [String], stops: [String], trim: Bool = false) -> (String, Bool) {
        var matcher = StopSequenceMatcher(stops: stops, trimsWhitespace: trim)
        var out = ""
        for piece in pieces {
            let (text, stopped) = matcher.append(piece)
            out += text
            if stopped { return (out, true) }
        }
        return (out + matcher.finish(), false)
    }

    /// Every way to cut the text into two and three pieces gives the definition's answer.
    @Test func everySplit() {
        let text = "ab\nUser: hi café\n\nEND and more"
        let characters = Array(text)
        for stops in [["\nUser:"], ["END"], ["é\n"], ["zzz"], ["END", "\nUser:"], ["b\nU", "hi"]] {
            var expected = text
            var found = false
            var first = text.endIndex
            for stop in stops { if let r = text.range(of: stop), r.lowerBound < first { first = r.lowerBound; found = true } }
            if found { expected = String(text[..<first]) }
            for i in 0...characters.count {
                for j in i...characters.count {
                    let pieces = [String(characters[..<i]), String(characters[i..<j]), String(characters[j...])]
                    let (out, stopped) = Self.run(pieces, stops: stops)
                    #expect(out == expected, "stops \(stops) split at \(i), \(j)")
                    #expect(stopped == found)
                }
            }
        }
    }

    /// Nothing that might begin a stop sequence is released early.
    @Test func holdsBackPrefixes() {
        var matcher = StopSequenceMatcher(stops: ["\nUser:"])
        #expect(matcher.append("Hello\nUs").text == "Hello")
        #expect(matcher.append("ually").text == "\nUsually")
        #expect(matcher.append("\nUser: x") == ("", true))
        #expect(matcher.append("more") == ("", true))
    }

    /// Chat replies: leading whitespace dropped, trailing whitespace only released once text follows.
    @Test func trimming() {
        #expect(Self.run(["  ", " Hi", " there", "\n\n", "User:"], stops: ["\nUser:"], trim: true) == ("Hi there", true))
        #expect(Self.run([" Hi", "\n\n", "\nUser: again"], stops: ["\nUser:"], trim: true) == ("Hi", true))
        #expect(Self.run([" a", " ", "b "], stops: [], trim: true) == ("a b", false))
        #expect(Self.run(["   "], stops: [], trim: true) == ("", false))
    }
}
