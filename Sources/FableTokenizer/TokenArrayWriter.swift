import Foundation

/// Writes token ids to a .npy or .bin file as they are produced.
///
/// Ids go to a temporary file beside the destination, which ``finish()`` renames into
/// place, so an interrupted run never leaves a half-written array under the final name.
/// For .npy the header is written first with a placeholder count and patched at the end.
public final class TokenArrayWriter {
    /// The destination.
    public let url: URL
    /// The container.
    public let format: TokenFileFormat
    /// The element type.
    public let dtype: TokenDType
    /// Ids written so far.
    public private(set) var count = 0

    private let temporaryPath: String
    private var descriptor: Int32
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
        let directory = url.deletingLastPathComponent().path
        temporaryPath = (directory as NSString).appendingPathComponent(
            ".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else {
            throw TokenFileError.io(path: url.path, reason: "cannot create a temporary file in \(directory) (\(String(cString: strerror(errno))))")
        }
        if format == .npy { try writeAll(NPYHeader.make(dtype: dtype, count: 0)) }
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
        if format == .npy {
            let header = NPYHeader.make(dtype: dtype, count: count)
            let written = header.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, header.count, 0) }
            guard written == header.count else { throw failure("cannot write the .npy header") }
        }
        guard fsync(descriptor) == 0 || errno == EINVAL else { throw failure("cannot flush") }
        close(descriptor)
        descriptor = -1
        guard rename(temporaryPath, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporaryPath)
            finished = true
            throw TokenFileError.io(path: url.path, reason: "cannot rename the finished file into place (\(reason))")
        }
        finished = true
    }

    /// Closes and deletes the temporary file.
    public func abort() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
        unlink(temporaryPath)
        finished = true
    }

    private func writeAll(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw failure("cannot write")
                }
                offset += written
            }
        }
    }

    private func failure(_ what: String) -> TokenFileError {
        .io(path: url.path, reason: "\(what) (\(String(cString: strerror(errno))))")
    }
}
