import FableFormats
import Foundation

// MARK: - Errors

/// Why a story corpus could not be written.
public enum StoryCorpusError: Error, CustomStringConvertible, Equatable {
    /// The story count was not positive.
    case invalidStoryCount(Int)
    /// The temporary file beside the destination could not be created.
    case cannotCreate(path: String, reason: String)
    /// Writing or renaming into place failed.
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalidStoryCount(let n):
            return "story count must be at least 1, got \(n)"
        case .cannotCreate(let path, let reason):
            return "cannot create \(path): \(reason)"
        case .writeFailed(let path, let reason):
            return "cannot write \(path): \(reason)"
        }
    }
}

// MARK: - Statistics

/// Counts over a stream of stories: documents, bytes, words and distinct words.
public struct StoryCorpusStatistics: Sendable {
    /// Stories seen.
    public private(set) var stories = 0
    /// UTF-8 bytes of the documents as written, separators included.
    public private(set) var bytes = 0
    /// Whitespace-separated words (punctuation attached), separators excluded.
    public private(set) var words = 0
    /// Stories per plot.
    public private(set) var plotCounts: [StoryPlot: Int] = [:]
    private var vocabulary = Set<String>()

    /// Distinct words: lower-cased runs of letters (an inner apostrophe kept: "don't").
    public var distinctWords: Int { vocabulary.count }

    /// Creates empty statistics.
    public init() {}

    /// Counts one story and the `documentBytes` it took in the file.
    public mutating func add(_ story: GeneratedStory, documentBytes: Int) {
        stories += 1
        bytes += documentBytes
        plotCounts[story.plot, default: 0] += 1
        var word: [UInt8] = []
        word.reserveCapacity(32)
        var inToken = false
        for b in story.text.utf8 {
            let isSpace = b == 0x20 || b == 0x0A
            if !isSpace && !inToken { words += 1 }
            inToken = !isSpace
            let lower = b | 0x20
            if lower >= 0x61 && lower <= 0x7A {
                word.append(lower)
            } else if b == 0x27, !word.isEmpty {
                word.append(b)  // "don't": an apostrophe inside a word stays
            } else if !word.isEmpty {
                if word.last == 0x27 { word.removeLast() }
                vocabulary.insert(String(decoding: word, as: UTF8.self))
                word.removeAll(keepingCapacity: true)
            }
        }
        if !word.isEmpty {
            if word.last == 0x27 { word.removeLast() }
            vocabulary.insert(String(decoding: word, as: UTF8.self))
        }
    }
}

// MARK: - Corpus files

/// Fable's built-in corpus: ``StoryGenerator`` stories written to a text file.
///
/// The format follows TinyStories: each story's text (paragraphs on their own lines),
/// then a line holding only `<|endoftext|>`:
/// ```
/// Once upon a time, there was a shy little girl named Mia. ...
/// "Hello," said Mia. ...
/// <|endoftext|>
/// There once was a curious fox called Pip. ...
/// <|endoftext|>
/// ```
public enum StoryCorpus {
    /// One story as it appears in a corpus file: the text, a newline, the separator, a newline.
    public static func document(_ story: String) -> String {
        story + "\n" + StoryGenerator.endOfText + "\n"
    }

    /// Writes `stories` stories from `StoryGenerator(seed: seed)` to `url`.
    ///
    /// The file is streamed through an `AtomicFile` writer (a temporary file beside `url`,
    /// flushed and renamed into place at the end), so memory stays small for any count and
    /// a crash never leaves a half-written corpus.
    /// - Parameters:
    ///   - stories: How many stories (at least 1).
    ///   - seed: The generator seed; the same seed writes the same bytes.
    ///   - url: The destination file; replaced if it exists.
    ///   - progress: Called with the number of stories written, every 1,000 stories and at the end.
    /// - Returns: Counts over the written corpus.
    @discardableResult
    public static func write(
        stories: Int, seed: UInt64, to url: URL, progress: ((Int) -> Void)? = nil
    ) throws -> StoryCorpusStatistics {
        guard stories >= 1 else { throw StoryCorpusError.invalidStoryCount(stories) }
        var statistics = StoryCorpusStatistics()
        var generator = StoryGenerator(seed: seed)
        let flushSize = 1 << 20
        var buffer: [UInt8] = []
        buffer.reserveCapacity(flushSize + 4096)
        let file: AtomicFile.Writer
        do {
            file = try AtomicFile.Writer(url: url)
        } catch {
            throw StoryCorpusError.cannotCreate(path: url.path, reason: error.reason)
        }
        do {
            for index in 1...stories {
                let story = generator.nextDetailedStory()
                let before = buffer.count
                buffer.append(contentsOf: story.text.utf8)
                buffer.append(0x0A)
                buffer.append(contentsOf: StoryGenerator.endOfText.utf8)
                buffer.append(0x0A)
                statistics.add(story, documentBytes: buffer.count - before)
                if buffer.count >= flushSize {
                    try file.write(buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
                if index % 1000 == 0 || index == stories { progress?(index) }
            }
            try file.write(buffer)
            try file.commit()
        } catch {
            file.discard()
            throw StoryCorpusError.writeFailed(path: url.path, reason: error.reason)
        }
        return statistics
    }
}
