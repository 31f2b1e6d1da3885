import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file so that readers see either the old file or the complete new one.
///
/// The bytes go to a temporary file in the destination's folder, are flushed to disk, and
/// the temporary file is renamed over the destination (rename is atomic within a file
/// system). A crash or an error mid-write leaves the destination untouched and removes
/// the temporary file.
public enum AtomicFile {
    /// A sink for the bytes of the file being written.
    public struct Sink {
        fileprivate let fd: Int32
        fileprivate let path: String

        /// Appends `bytes` to the file.
        public func write(_ bytes: UnsafeRawBufferPointer) throws {
            var done = 0
            while done < bytes.count {
                // Large writes are split: some kernels cap one write at about 2 GiB.
                let chunk = min(bytes.count - done, 1 << 30)
                let written = Glibc_write(fd, bytes.baseAddress! + done, chunk)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw AtomicFileError.writeFailed(path: path, reason: MappedFile.errnoText())
                }
                done += written
            }
        }

        /// Appends an array of bytes to the file.
        public func write(_ bytes: [UInt8]) throws {
            try bytes.withUnsafeBytes { try write($0) }
        }
    }

    /// Creates or replaces `url` with the bytes `body` writes to its sink.
    /// - Throws: ``AtomicFileError`` for file-system failures, or whatever `body` throws.
    public static func write(to url: URL, _ body: (Sink) throws -> Void) throws {
        let destination = url.path
        let folder = url.deletingLastPathComponent().path
        let temporary = folder + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else {
            throw AtomicFileError.writeFailed(path: destination, reason: "cannot create temporary file in \(folder): \(MappedFile.errnoText())")
        }
        var closed = false
        do {
            try body(Sink(fd: fd, path: destination))
            guard fsync(fd) == 0 else {
                throw AtomicFileError.writeFailed(path: destination, reason: "fsync: \(MappedFile.errnoText())")
            }
            closed = true
            guard close(fd) == 0 else {
                throw AtomicFileError.writeFailed(path: destination, reason: "close: \(MappedFile.errnoText())")
            }
            guard rename(temporary, destination) == 0 else {
                throw AtomicFileError.writeFailed(path: destination, reason: "rename: \(MappedFile.errnoText())")
            }
        } catch {
            if !closed { close(fd) }
            unlink(temporary)
            throw error
        }
    }

    /// Creates or replaces `url` with `data`.
    public static func write(_ data: [UInt8], to url: URL) throws {
        try write(to: url) { try $0.write(data) }
    }
}

@inline(__always)
private func Glibc_write(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, buffer, count)
    #else
    return Darwin.write(fd, buffer, count)
    #endif
}

/// Why an atomic write failed. The destination file is unchanged in every case.
public enum AtomicFileError: Error, CustomStringConvertible, Equatable {
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .writeFailed(path, reason): return "\(path): cannot write file: \(reason)"
        }
    }
}
