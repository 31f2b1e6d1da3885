import FableFormats
import Foundation

/// Writes token ids to a .npy or .bin file as they are produced.
///
/// Ids go to an ``AtomicFile`` writer (a temporary file beside the destination), which
/// ``finish()`` flushes and renames into place, so an interrupted run never leaves a
/// half-written array under the final name. For .npy the header is written first with a
/// count of 0 and patched at the end (numpy's header has the same length for any count).
public final class TokenArrayWriter {
    /// The destination.
    public let url: URL
    /// The container.
    public let format: TokenFileFormat
    /// The element type.
    public let dtype: TokenDType
    /// Ids written so far.
    public private(set) var count = 0

    private let file: AtomicFile.Writer
    private var staging: [UInt8] = []
    private var finished = false

    /// Opens a writer for `url` (.npy or .bin).
    ///
    /// - Parameters:
    ///   - url: the destination; its extension picks the format.
    ///   - dtype: the element type; every id written must fit.
    public init(url: URL, dtype: TokenDType) throws {
        guard let format = TokenFileFormat(path: url.path) else { throw TokenFileError.unknownFormat(path: url.path) }
        self.url = url
        self.format = format
        self.dtype = dtype
        do {
            file = try AtomicFile.Writer(url: url)
        } catch {
            throw TokenFileError.io(path: url.path, reason: error.reason)
        }
        if format == .npy { try writeAll(NPYHeader.encode(descr: dtype.numpyDescriptor, shape: [0])) }
    }

    deinit {
        if !finished { abort() }
    }

    /// Appends ids, converting them to ``dtype``.
    public func append(_ ids: UnsafeBufferPointer<UInt32>) throws {
        guard !ids.isEmpty else { return }
        let width = dtype.byteWidth
        staging.removeAll(keepingCapacity: true)
        staging.reserveCapacity(ids.count * width)
        if dtype == .uint16 {
            for id in ids {
                precondition(id <= UInt32(UInt16.max), "id \(id) does not fit uint16; the caller checks the vocabulary size")
                staging.append(UInt8(truncatingIfNeeded: id))
                staging.append(UInt8(truncatingIfNeeded: id >> 8))
            }
        } else {
            for id in ids {
                withUnsafeBytes(of: id.littleEndian) { staging.append(contentsOf: $0) }
            }
        }
        try writeAll(staging)
        count += ids.count
    }

    /// Completes the header, closes the file and renames it to ``url``.
    public func finish() throws {
        precondition(!finished, "finish() called twice")
        finished = true
        do {
            if format == .npy {
                let header = NPYHeader.encode(descr: dtype.numpyDescriptor, shape: [count])
                precondition(header.count == NPYHeader.encode(descr: dtype.numpyDescriptor, shape: [0]).count,
                             "numpy's 1-D header has room for any count")
                try file.overwrite(header, at: 0)
            }
            try file.commit()
        } catch {
            throw TokenFileError.io(path: url.path, reason: error.reason)
        }
    }

    /// Closes and deletes the temporary file.
    public func abort() {
        file.discard()
        finished = true
    }

    private func writeAll(_ bytes: [UInt8]) throws {
        do {
            try file.write(bytes)
        } catch {
            throw TokenFileError.io(path: url.path, reason: error.reason)
        }
    }
}
