import Dispatch
import Foundation

// Encoding a text file of any size into a token array, in parallel and in bounded memory.
//
// The file is read in rounds of a few blocks per thread. Each round is cut into blocks at
// final-prefix points (TokenEncoder+Cut.swift), normally just after a document's
// <|endoftext|>, so every block encodes on its own exactly as inside the whole file. The
// blocks are encoded in parallel, one encoder (with its piece cache) per thread, and
// their ids are handed on in file order. The unfinished tail of a round is carried over
// to the next; a piece longer than a round grows the round until it fits.

/// Encodes files to token ids with several threads.
public struct TokenFileEncoder: Sendable {
    /// The tokenizer.
    public let tokenizer: Tokenizer
    /// Worker threads.
    public var threads: Int
    /// The target size of one unit of parallel work, in bytes.
    public var blockBytes: Int
    /// Whether special tokens in the text are matched.
    public var specialTokens: Bool

    /// - Parameters:
    ///   - tokenizer: the tokenizer.
    ///   - threads: worker threads (at least 1).
    ///   - blockBytes: the target block size (default 1 MiB).
    ///   - specialTokens: whether special-token text becomes special tokens (default true).
    public init(tokenizer: Tokenizer, threads: Int = 1, blockBytes: Int = 1 << 20, specialTokens: Bool = true) {
        self.tokenizer = tokenizer
        self.threads = max(1, threads)
        self.blockBytes = max(64, blockBytes)
        self.specialTokens = specialTokens
    }

    /// How far an encoding run has got.
    public struct Progress: Sendable {
        /// Input bytes encoded so far.
        public var bytes: Int
        /// The input's size, when known.
        public var totalBytes: Int?
        /// Ids produced so far.
        public var tokens: Int
        /// Seconds since the start.
        public var seconds: Double
    }

    /// The result of an encoding run.
    public struct Summary: Sendable {
        /// Input bytes.
        public var bytes: Int
        /// Ids produced.
        public var tokens: Int
        /// Special tokens among them (documents, for <|endoftext|>-separated text).
        public var specialTokens: Int
        /// Wall-clock seconds.
        public var seconds: Double
        /// CPU seconds the encoder threads spent encoding, summed over threads (the pure
        /// encoding cost: no file reading, and not inflated when other processes share the cores).
        public var encodeSeconds: Double
        /// Invalid UTF-8 sequences replaced by U+FFFD before encoding (as the BPE trainer
        /// does, and Python with `errors="replace"`).
        public var invalidUTF8Replacements: Int = 0
        /// Input bytes per id.
        public var bytesPerToken: Double { tokens > 0 ? Double(bytes) / Double(tokens) : 0 }
        /// Input megabytes (10^6 bytes) per wall-clock second.
        public var megabytesPerSecond: Double { seconds > 0 ? Double(bytes) / seconds / 1e6 : 0 }
    }

    // MARK: - To a file

    /// Encodes `input` into a .npy or .bin file at `output`, written atomically.
    ///
    /// - Parameters:
    ///   - input: a UTF-8 text file.
    ///   - output: the destination, ending in .npy or .bin.
    ///   - dtype: the element type; nil picks uint16 when the vocabulary fits, else uint32.
    ///   - progress: called after each round of blocks.
    public func encode(input: URL, output: URL, dtype: TokenDType? = nil,
                       progress: ((Progress) -> Void)? = nil) throws -> Summary {
        let size = tokenizer.vocabularySize
        let type = dtype ?? TokenDType.fitting(vocabularySize: size)
        if type == .uint16 && size > 1 << 16 { throw TokenFileError.dtypeTooNarrow(type, vocabularySize: size) }
        let writer = try TokenArrayWriter(url: output, dtype: type)
        do {
            let summary = try encode(input: input, progress: progress) { try writer.append($0) }
            try writer.finish()
            return summary
        } catch {
            writer.abort()
            throw error
        }
    }

    // MARK: - To a consumer

    /// Encodes `input`, handing the ids to `consume` in file order, block by block.
    public func encode(input: URL, progress: ((Progress) -> Void)? = nil,
                       consume: (UnsafeBufferPointer<UInt32>) throws -> Void) throws -> Summary {
        let descriptor = open(input.path, O_RDONLY)
        guard descriptor >= 0 else {
            throw TokenFileError.io(path: input.path, reason: "cannot open (\(String(cString: strerror(errno))))")
        }
        defer { close(descriptor) }
        var info = stat()
        let totalBytes: Int? = fstat(descriptor, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG ? Int(info.st_size) : nil
        if (info.st_mode & S_IFMT) == S_IFDIR { throw TokenFileError.io(path: input.path, reason: "is a directory, expected a text file") }

        let start = DispatchTime.now()
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9 }
        let encoders = (0..<threads).map { _ in tokenizer.makeEncoder() }
        var capacity = threads * 4 * blockBytes
        var buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { buffer.deallocate() }
        var filled = 0, consumed = 0, tokens = 0, specials = 0
        var encodeSeconds = 0.0
        var repairedSequences = 0
        var endOfFile = false

        while true {
            // Fill the round buffer.
            while filled < capacity && !endOfFile {
                let got = read(descriptor, buffer + filled, capacity - filled)
                if got < 0 {
                    if errno == EINTR { continue }
                    throw TokenFileError.io(path: input.path, reason: "read failed at byte \(consumed + filled) (\(String(cString: strerror(errno))))")
                }
                if got == 0 { endOfFile = true }
                filled += got
            }
            let blocks = cutBlocks(buffer, filled, endOfFile: endOfFile, cutter: encoders[0])
            let used = blocks.last?.upperBound ?? 0

            // Encode the blocks in parallel; each worker takes the next block in turn.
            var outputs = [[UInt32]](repeating: [], count: blocks.count)
            var workerSeconds = [Double](repeating: 0, count: encoders.count)
            var workerSpecials = [Int](repeating: 0, count: encoders.count)
            var workerRepairs = [Int](repeating: 0, count: encoders.count)
            let workers = min(encoders.count, blocks.count)
            let claim = BlockCounter()
            let base = UnsafePointer(buffer)
            let special = specialTokens
            outputs.withUnsafeMutableBufferPointer { resultsBuffer in
                workerSeconds.withUnsafeMutableBufferPointer { secondsBuffer in
                    workerSpecials.withUnsafeMutableBufferPointer { countsBuffer in
                      workerRepairs.withUnsafeMutableBufferPointer { repairsBuffer in
                        let results = resultsBuffer, seconds = secondsBuffer, counts = countsBuffer
                        let repairs = repairsBuffer
                        let work: (Int) -> Void = { worker in
                            let encoder = encoders[worker]
                            let begin = threadCPUSeconds()
                            let before = encoder.specialTokensEmitted
                            while let index = claim.next(below: blocks.count) {
                                let range = blocks[index]
                                let text = UnsafeBufferPointer(start: base + range.lowerBound, count: range.count)
                                if UTF8Repair.firstInvalidOffset(in: text) == nil {
                                    encoder.encode(text, into: &results[index], specialTokens: special)
                                } else {
                                    // Same policy as the trainer: each bad sequence becomes U+FFFD.
                                    let fixed = UTF8Repair.repaired(text)
                                    repairs[worker] += fixed.replacements
                                    fixed.bytes.withUnsafeBufferPointer {
                                        encoder.encode($0, into: &results[index], specialTokens: special)
                                    }
                                }
                            }
                            seconds[worker] = threadCPUSeconds() - begin
                            counts[worker] = encoder.specialTokensEmitted - before
                        }
                        if workers <= 1 {
                            work(0)
                        } else {
                            concurrentPerform(iterations: workers, work)
                        }
                      }
                    }
                }
            }
            encodeSeconds += workerSeconds.reduce(0, +)
            specials += workerSpecials.reduce(0, +)
            repairedSequences += workerRepairs.reduce(0, +)
            for ids in outputs {
                tokens += ids.count
                try ids.withUnsafeBufferPointer { try consume($0) }
            }

            // Carry the unfinished tail to the next round.
            consumed += used
            let remaining = filled - used
            if remaining > 0 && used > 0 { memmove(buffer, buffer + used, remaining) }
            filled = remaining
            progress?(Progress(bytes: consumed, totalBytes: totalBytes, tokens: tokens, seconds: elapsed()))
            if endOfFile && filled == 0 { break }
            if filled == capacity {
                // One piece fills the whole round: make room for more of it.
                let larger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
                larger.update(from: buffer, count: filled)
                buffer.deallocate()
                buffer = larger
                capacity *= 2
            }
        }
        return Summary(bytes: consumed, tokens: tokens, specialTokens: specials, seconds: elapsed(),
                       encodeSeconds: encodeSeconds, invalidUTF8Replacements: repairedSequences)
    }

    /// Cuts `buffer[0..<filled]` into blocks of about ``blockBytes`` that each encode on
    /// their own exactly; the text after the last block waits for more input (none is
    /// left at the end of the file).
    func cutBlocks(_ buffer: UnsafeMutablePointer<UInt8>, _ filled: Int, endOfFile: Bool, cutter: TokenEncoder) -> [Range<Int>] {
        var blocks: [Range<Int>] = []
        var position = 0
        while position < filled {
            if endOfFile && filled - position <= blockBytes {
                blocks.append(position..<filled)
                break
            }
            var window = min(blockBytes, filled - position)
            var cut = 0
            while true {
                cut = cutter.finalPrefixLength(of: UnsafeBufferPointer(start: buffer + position, count: window),
                                               specialTokens: specialTokens)
                if cut > 0 || position + window == filled { break }
                window = min(window * 2, filled - position)
            }
            if cut == 0 {
                if endOfFile { blocks.append(position..<filled) }
                break
            }
            blocks.append(position..<(position + cut))
            position += cut
        }
        return blocks
    }
}

/// The CPU time the calling thread has used, in seconds.
func threadCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}

/// Hands out block indices to worker threads, one at a time.
private final class BlockCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func next(below limit: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard value < limit else { return nil }
        value += 1
        return value - 1
    }
}
