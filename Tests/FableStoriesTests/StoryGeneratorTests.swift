import Foundation
import Testing
@testable import FableStories

// MARK: - Text helpers for the checks

/// Letter runs (with inner apostrophes) and their byte offsets, for the grammar checks.
private func wordsWithOffsets(_ bytes: [UInt8]) -> [(word: String, at: Int)] {
    var result: [(String, Int)] = []
    var start = -1
    func isWordByte(_ b: UInt8) -> Bool { ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A) || b == 0x27 }
    for i in 0...bytes.count {
        let inside = i < bytes.count && isWordByte(bytes[i])
        if inside && start < 0 { start = i }
        if !inside && start >= 0 {
            result.append((String(decoding: bytes[start..<i], as: UTF8.self), start))
            start = -1
        }
    }
    return result
}

private func isUpper(_ b: UInt8) -> Bool { b >= 0x41 && b <= 0x5A }

/// Removes every `⟨...⟩` pronoun mark.
private func strippingMarks(_ text: String) -> String {
    var out = ""
    var inside = false
    for ch in text {
        if ch == "⟨" { inside = true } else if ch == "⟩" { inside = false } else if !inside { out.append(ch) }
    }
    return out
}

/// Stories shared by several checks: 600 from seed 7 (fast in debug builds).
private let sampleStories: [GeneratedStory] = {
    var generator = StoryGenerator(seed: 7)
    return (0..<600).map { _ in generator.nextDetailedStory() }
}()

// MARK: - Determinism and variety

@Suite("Story generator: determinism and variety")
struct StoryGeneratorDeterminismTests {
    @Test("the same seed gives the same stories")
    func sameSeedSameStories() {
        var a = StoryGenerator(seed: 42)
        var b = StoryGenerator(seed: 42)
        for _ in 0..<100 { #expect(a.nextStory() == b.nextStory()) }
    }

    @Test("different seeds give different stories")
    func seedsDiffer() {
        let firsts = (0..<20).map { seed -> String in
            var g = StoryGenerator(seed: UInt64(seed))
            return g.nextStory()
        }
        #expect(Set(firsts).count == 20)
        var a = StoryGenerator(seed: 1)
        var b = StoryGenerator(seed: 2)
        let streamA = (0..<20).map { _ in a.nextStory() }
        let streamB = (0..<20).map { _ in b.nextStory() }
        #expect(Set(streamA).isDisjoint(with: streamB))
    }

    @Test("1000 stories are all different, and every plot appears often")
    func variety() {
        var g = StoryGenerator(seed: 3)
        var texts = Set<String>()
        var openings = Set<String>()
        var plots: [StoryPlot: Int] = [:]
        var heroNames = Set<String>()
        for _ in 0..<1000 {
            let story = g.nextDetailedStory()
            texts.insert(story.text)
            openings.insert(String(story.text.prefix { $0 != "." }))
            plots[story.plot, default: 0] += 1
            heroNames.insert(story.cast[0].name)
        }
        #expect(texts.count == 1000)
        #expect(openings.count > 800, "first sentences should rarely repeat: \(openings.count) distinct")
        #expect(heroNames.count > 60)
        for plot in StoryPlot.allCases {
            #expect((plots[plot] ?? 0) >= 40, "plot \(plot.rawValue) appeared \(plots[plot] ?? 0) times in 1000")
        }
    }

    @Test("the vocabulary is small but not tiny")
    func vocabularySize() {
        var statistics = StoryCorpusStatistics()
        for story in sampleStories { statistics.add(story, documentBytes: story.text.utf8.count) }
        #expect(statistics.distinctWords > 800 && statistics.distinctWords < 4000, "\(statistics.distinctWords) distinct words")
    }

    @Test("story lengths land in the word range without redraws")
    func lengths() {
        for story in sampleStories {
            let words = story.text.split(whereSeparator: { $0 == " " || $0 == "\n" }).count
            #expect(StoryGenerator.wordRange.contains(words), "\(words) words: \(story.text)")
        }
        var g = StoryGenerator(seed: 11)
        for _ in 0..<500 { _ = g.nextStory() }
        #expect(g.redraws <= 5, "\(g.redraws) of 500 draws fell outside the word range")
    }
}

// MARK: - Grammar

@Suite("Story generator: grammar invariants")
struct StoryGeneratorGrammarTests {
    @Test("plain ASCII, no template leftovers, tidy spacing and paragraphs")
    func tidyText() {
        for story in sampleStories {
            let text = story.text
            #expect(text.utf8.allSatisfy { $0 < 0x80 }, "non-ASCII byte: \(text)")
            for bad in ["{", "}", "⟨", "  ", " ,", " .", " !", " ?", "\n\n", " \n", "\n ", "..", ",.", "<|endoftext|>"] {
                #expect(!text.contains(bad), "found \(bad.debugDescription) in: \(text)")
            }
            #expect(!text.hasPrefix(" ") && !text.hasSuffix(" ") && !text.hasSuffix("\n"))
            #expect(text.split(separator: "\n").count >= 2, "one paragraph only: \(text)")
            #expect(text.last.map { ".!?\"".contains($0) } ?? false, "unfinished ending: \(text)")
        }
    }

    @Test("a before consonants, an before vowels")
    func articles() {
        for story in sampleStories {
            let words = wordsWithOffsets(Array(story.text.utf8))
            for (i, w) in words.enumerated().dropLast() {
                let lower = w.word.lowercased()
                guard lower == "a" || lower == "an" else { continue }
                let next = words[i + 1].word.lowercased()
                let vowel = "aeiou".contains(next.first!)
                #expect(vowel == (lower == "an"), "\(w.word) \(next) in: \(story.text)")
            }
        }
    }

    @Test("every quote is opened after a space and closed after punctuation")
    func quotes() {
        for story in sampleStories {
            for paragraph in story.text.split(separator: "\n") {
                let bytes = Array(paragraph.utf8)
                let positions = bytes.indices.filter { bytes[$0] == 0x22 }
                #expect(positions.count % 2 == 0, "unbalanced quotes: \(paragraph)")
                for (k, p) in positions.enumerated() {
                    if k % 2 == 0 {
                        #expect(p == 0 || bytes[p - 1] == 0x20, "odd opening quote at \(p): \(paragraph)")
                    } else {
                        #expect(".,!?".utf8.contains(bytes[p - 1]), "speech not ended by punctuation at \(p): \(paragraph)")
                        #expect(p + 1 == bytes.count || bytes[p + 1] == 0x20, "closing quote glued at \(p): \(paragraph)")
                    }
                }
            }
        }
    }

    @Test("sentences and speech start with a capital letter")
    func capitals() {
        for story in sampleStories {
            for paragraph in story.text.split(separator: "\n") {
                let b = Array(paragraph.utf8)
                let first = b[0] == 0x22 ? b[1] : b[0]
                #expect(isUpper(first), "paragraph starts in lower case: \(paragraph)")
                var inQuote = false
                for i in b.indices {
                    if b[i] == 0x22 {
                        inQuote.toggle()
                        if inQuote { #expect(isUpper(b[i + 1]), "speech starts in lower case at \(i): \(paragraph)") }
                        continue
                    }
                    guard ".!?".utf8.contains(b[i]), i + 2 < b.count else { continue }
                    if b[i + 1] == 0x20 {
                        #expect(isUpper(b[i + 2]) || b[i + 2] == 0x22, "lower case after \(i): \(paragraph)")
                    } else if b[i + 1] == 0x22, b[i] == 0x2E, i + 3 < b.count, b[i + 2] == 0x20 {
                        // `."` ends a sentence; `!"` and `?"` may go on with a tag: "Wow!" she said.
                        #expect(isUpper(b[i + 3]) || b[i + 3] == 0x22, "lower case after a closing quote at \(i): \(paragraph)")
                    }
                }
            }
        }
    }

    @Test("verbs agree with pronouns and with the number of each prop")
    func agreement() {
        let wrong = ["he were", "she were", "it were", "they was", "he are", "she are", "it are", "they is",
                     "i is", "i are", "we was", "you was", "he have", "she have", "they has"]
        for story in sampleStories {
            let lower = story.text.lowercased()
            for phrase in wrong {
                #expect(!lower.contains(phrase + " ") && !lower.contains(phrase + "."), "\(phrase) in: \(story.text)")
            }
            for prop in story.props {
                let bad = prop.isPlural ? ["was", "is"] : ["were", "are"]
                for verb in bad {
                    #expect(!lower.contains(" \(prop.noun) \(verb) "), "\(prop.noun) \(verb) in: \(story.text)")
                }
                let wrongDeterminer = prop.isPlural ? "this \(prop.noun) " : "these \(prop.noun) "
                #expect(!lower.contains(wrongDeterminer), "\(wrongDeterminer) in: \(story.text)")
            }
        }
    }

    @Test("every proper name belongs to the story's cast, which has distinct names")
    func namesConsistent() {
        for story in sampleStories {
            let castNames = Set(story.cast.map(\.name))
            #expect(castNames.count == story.cast.count, "two characters share a name: \(story.cast.map(\.name))")
            for w in wordsWithOffsets(Array(story.text.utf8)) {
                let name = w.word.hasSuffix("'s") ? String(w.word.dropLast(2)) : w.word
                if StoryVocabulary.allNames.contains(name) {
                    #expect(castNames.contains(name), "\(name) is not in the cast \(castNames): \(story.text)")
                }
            }
        }
    }
}

// MARK: - Pronouns

@Suite("Story generator: pronouns agree with each character's gender")
struct StoryGeneratorPronounTests {
    static let pronouns: Set<String> = ["he", "she", "him", "her", "his", "himself", "herself"]

    @Test("checking mode marks every pronoun with a character of the right gender")
    func annotatedPronouns() {
        var marked = StoryGenerator(seed: 5, annotatesPronouns: true)
        var plain = StoryGenerator(seed: 5)
        var pronounCount = 0
        for _ in 0..<400 {
            let story = marked.nextDetailedStory()
            #expect(strippingMarks(story.text) == plain.nextStory(), "checking mode changed the story")
            let genders = Dictionary(story.cast.map { ($0.name, $0.gender) }, uniquingKeysWith: { a, _ in a })
            // Split into words, keeping the mark glued to the pronoun before it.
            let scalars = Array(story.text.unicodeScalars)
            var i = 0
            while i < scalars.count {
                guard CharacterSet.letters.contains(scalars[i]) else { i += 1; continue }
                var j = i
                while j < scalars.count, CharacterSet.letters.contains(scalars[j]), scalars[j] != "⟨" { j += 1 }
                let word = String(String.UnicodeScalarView(scalars[i..<j])).lowercased()
                i = j
                guard Self.pronouns.contains(word) else { continue }
                pronounCount += 1
                guard j < scalars.count, scalars[j] == "⟨", let close = scalars[j...].firstIndex(of: "⟩") else {
                    Issue.record("pronoun \(word) without a character: \(story.text)")
                    continue
                }
                let name = String(String.UnicodeScalarView(scalars[(j + 1)..<close]))
                i = close + 1
                guard let gender = genders[name] else {
                    Issue.record("pronoun \(word) marks \(name), who is not in the cast: \(story.text)")
                    continue
                }
                #expect(gender.pronounForms.contains(word), "\(word) used for \(gender.rawValue) \(name): \(story.text)")
            }
        }
        #expect(pronounCount > 3000)
    }

    @Test("stories whose cast is all one gender never use the other gender's pronouns")
    func singleGenderCasts() {
        var checked = 0
        for story in sampleStories {
            let genders = Set(story.cast.map(\.gender))
            guard genders.count == 1, let gender = genders.first else { continue }
            checked += 1
            let other: Set<String> = gender == .female ? ["he", "him", "his", "himself"] : ["she", "her", "herself"]
            for w in wordsWithOffsets(Array(story.text.utf8)) where other.contains(w.word.lowercased()) {
                Issue.record("\(w.word) in a story whose cast is all \(gender.rawValue): \(story.text)")
            }
        }
        #expect(checked > 30, "only \(checked) single-gender stories to check")
    }
}

// MARK: - Corpus files

@Suite("Story corpus files")
struct StoryCorpusFileTests {
    private func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fable-corpus-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test("a corpus file holds the generator's stories, each followed by <|endoftext|> on its own line")
    func writesStoriesWithSeparators() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("stories.txt")
        try "old contents".write(to: url, atomically: false, encoding: .utf8)
        var reported: [Int] = []
        let statistics = try StoryCorpus.write(stories: 30, seed: 9, to: url) { reported.append($0) }

        let data = try Data(contentsOf: url)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.hasSuffix("\n<|endoftext|>\n"))
        var documents = text.components(separatedBy: "\n<|endoftext|>\n")
        #expect(documents.removeLast() == "")
        var generator = StoryGenerator(seed: 9)
        #expect(documents == (0..<30).map { _ in generator.nextStory() })

        #expect(statistics.stories == 30)
        #expect(statistics.bytes == data.count)
        #expect(statistics.words == documents.reduce(0) { $0 + $1.split(whereSeparator: { $0 == " " || $0 == "\n" }).count })
        #expect(reported == [30])
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(leftovers == ["stories.txt"], "temporary files left behind: \(leftovers)")
    }

    @Test("the same seed writes byte-identical files")
    func identicalFiles() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.txt"), b = dir.appendingPathComponent("b.txt")
        try StoryCorpus.write(stories: 1200, seed: 123, to: a)
        try StoryCorpus.write(stories: 1200, seed: 123, to: b)
        #expect(try Data(contentsOf: a) == Data(contentsOf: b))
    }

    @Test("bad counts and unwritable places give clear errors")
    func errors() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: StoryCorpusError.invalidStoryCount(0)) {
            try StoryCorpus.write(stories: 0, seed: 0, to: dir.appendingPathComponent("x.txt"))
        }
        let missing = dir.appendingPathComponent("no/such/folder/x.txt")
        do {
            try StoryCorpus.write(stories: 3, seed: 0, to: missing)
            Issue.record("writing into a missing folder should fail")
        } catch let error as StoryCorpusError {
            #expect(error.description.contains(missing.path))
        }
    }

    @Test("statistics count words, distinct words and plots")
    func statistics() {
        var s = StoryCorpusStatistics()
        let story = GeneratedStory(text: "Tom's dog ran.\n\"Don't go,\" Tom said. The dog ran!", plot: .trip, cast: [], props: [])
        s.add(story, documentBytes: 60)
        #expect(s.stories == 1 && s.bytes == 60)
        #expect(s.words == 10)
        // tom's, dog, ran, don't, go, tom, said, the
        #expect(s.distinctWords == 8)
        #expect(s.plotCounts == [.trip: 1])
    }
}
