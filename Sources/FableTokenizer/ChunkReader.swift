import Foundation

// MARK: - Byte sources

/// Where training text comes from: a file read in pieces, or bytes already in memory.
protocol ByteSource {
    /// The total size when known in advance (for progress and chunk sizing).
    var totalBytes: Int? { get }
    /// Reads up to `buffer.count` bytes; returns 0 at the end.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// A file read with POSIX `read`, so only the current chunks are ever in memory.
final class FileByteSource: ByteSource {
    let path: String
    let totalBytes: Int?
    private let descriptor: Int32
    private var offset = 0

    init(path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw BPETrainerError.fileNotFound(path: path)
        }
        if isDirectory.boolValue { throw BPETrainerError.notAFile(path: path) }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw BPETrainerError.unreadableFile(path: path, offset: 0, reason: String(cString: strerror(errno)))
        }
        descriptor = fd
        self.path = path
        var info = stat()
        totalBytes = fstat(fd, &info) == 0 ? Int(info.st_size) : nil
    }

    deinit { close(descriptor) }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            let got = Foundation.read(descriptor, base, buffer.count)
            if got >= 0 {
                offset += got
                return got
            }
            if errno == EINTR { continue }
            throw BPETrainerError.unreadableFile(path: path, offset: offset, reason: String(cString: strerror(errno)))
        }
    }
}

/// Bytes already in memory (tests, small inputs).
struct MemoryByteSource: ByteSource {
    let bytes: [UInt8]
    private var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var totalBytes: Int? { bytes.count }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - position)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + position, byteCount: n)
        }
        position += n
        return n
    }
}

// MARK: - Chunks

/// A reusable buffer that holds one chunk of text.
final class ChunkBuffer {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int
    /// The bytes of the chunk.
    var count = 0
    /// Where the chunk starts in the whole input.
    var startOffset = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    func reserve(_ minimum: Int) {
        guard minimum > capacity else { return }
        var grown = capacity * 2
        while grown < minimum { grown *= 2 }
        let fresh = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
        fresh.update(from: base, count: count)
        base.deallocate()
        base = fresh
        capacity = grown
    }
}

/// Cuts a byte stream into chunks of about `chunkSize` bytes whose boundaries change
/// neither the special-token split nor the pre-tokenization, so chunks can be counted
/// independently and in any order.
///
/// A chunk ends where a special token starts (the document separator). When no special
/// token occurs within the look-ahead, it ends where a run of ASCII white space holding a
/// `\n` starts right after an ASCII byte that is not white space ("word\n", "word \r\n"):
/// the GPT-2 pattern always ends a piece there and starts a fresh one, so scanning the two
/// sides separately gives the same pieces. Only an input with neither special tokens nor
/// such line ends makes a chunk grow past its target size.
final class ChunkReader {
    private var source: ByteSource
    private let matcher: SpecialTokenMatcher
    private let chunkSize: Int
    private let lookahead: Int
    private let longestSpecial: Int
    private var carry: [UInt8] = []
    private var atEnd = false
    private var offset = 0
    private let asciiClasses: UnsafeMutablePointer<UInt8>

    init(source: ByteSource, matcher: SpecialTokenMatcher, chunkSize: Int) {
        self.source = source
        self.matcher = matcher
        self.chunkSize = max(1, chunkSize)
        self.lookahead = max(4096, min(self.chunkSize, 1 << 16))
        self.longestSpecial = matcher.tokens.map(\.count).max() ?? 0
        self.asciiClasses = GPT2Pretokenizer.ScalarClassTable.shared.ascii
    }

    /// The bytes handed out so far.
    var bytesDelivered: Int { offset }

    /// Fills `chunk` with the next chunk; false when the input is exhausted.
    func next(into chunk: ChunkBuffer) throws -> Bool {
        chunk.count = 0
        chunk.startOffset = offset
        chunk.reserve(carry.count + chunkSize + lookahead)
        carry.withUnsafeBufferPointer { carried in
            if let source = carried.baseAddress { chunk.base.update(from: source, count: carried.count) }
        }
        chunk.count = carry.count
        carry.removeAll(keepingCapacity: true)

        var wanted = chunkSize + lookahead
        while true {
            try fill(chunk, upTo: wanted)
            if let cut = boundary(in: chunk) {
                split(chunk, at: cut)
                break
            }
            if atEnd { break }
            // No safe cut in view yet: read further (only inputs without separators get here).
            wanted = chunk.count * 2
        }
        offset += chunk.count
        return chunk.count > 0
    }

    private func fill(_ chunk: ChunkBuffer, upTo wanted: Int) throws {
        chunk.reserve(wanted)
        while !atEnd && chunk.count < wanted {
            let got = try source.read(into: UnsafeMutableRawBufferPointer(
                start: chunk.base + chunk.count, count: wanted - chunk.count))
            if got == 0 { atEnd = true } else { chunk.count += got }
        }
    }

    private func split(_ chunk: ChunkBuffer, at cut: Int) {
        carry.append(contentsOf: UnsafeBufferPointer(start: chunk.base + cut, count: chunk.count - cut))
        chunk.count = cut
    }

    /// The first safe cut at or after `chunkSize`, or nil.
    private func boundary(in chunk: ChunkBuffer) -> Int? {
        let bytes = chunk.bytes
        guard bytes.count > chunkSize else { return nil }
        // A cut is only trusted when every special token that could straddle it is in view.
        let limit = atEnd ? bytes.count : bytes.count - longestSpecial
        var from = chunkSize
        while from < limit, let match = matcher.nextMatch(in: bytes, from: from), match.start < limit {
            if !matcher.straddles(match.start, in: bytes) { return match.start }
            from = match.start + 1
        }
        var position = chunkSize
        let base = chunk.base
        while position < limit {
            guard let found = memchr(base + position, 0x0A, limit - position) else { break }
            let newline = UnsafeMutablePointer<UInt8>(found.assumingMemoryBound(to: UInt8.self)) - base
            // Cut where the white-space run holding this newline starts ("word \r\n": before
            // the space), when a non-space ASCII byte comes right before it.
            var cut = newline
            while cut > 0 && newline - cut < 64 && base[cut - 1] < 0x80
                && asciiClasses[Int(base[cut - 1])] == GPT2Pretokenizer.ScalarClass.space {
                cut -= 1
            }
            if cut > 0 && base[cut - 1] < 0x80
                && asciiClasses[Int(base[cut - 1])] != GPT2Pretokenizer.ScalarClass.space
                && !matcher.straddles(cut, in: bytes) {
                return cut
            }
            position = newline + 1
        }
        return nil
    }
}
