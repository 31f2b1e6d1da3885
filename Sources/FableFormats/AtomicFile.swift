import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files so that readers see either the old file or the complete new one.
///
/// The bytes go to a temporary file `.NAME.tmp-PID-RANDOM` in the destination's folder
/// (rename is atomic only within one file system), which is flushed to disk (`fsync`),
/// renamed over the destination, and the folder is flushed so the rename itself survives
/// a power cut. An error or a crash mid-write leaves the destination untouched; errors
/// remove the temporary file.
///
/// ``write(to:_:)`` covers a file written in one go; ``Writer`` a file written piece by
/// piece (a token array streamed as it is encoded, with its header patched at the end).
package enum AtomicFile {
    /// An open temporary file that becomes the destination on ``commit()``.
    ///
    /// Dropping a writer without committing deletes the temporary file.
    package final class Writer {
        /// The file this writer replaces on ``commit()``.
        package let url: URL
        /// The temporary file being written.
        package let temporaryPath: String
        private var fd: Int32
        private var done = false

        /// Creates the temporary file beside `url`.
        /// - Throws: ``AtomicFileError`` when the folder does not accept a new file.
        package init(url: URL) throws(AtomicFileError) {
            self.url = url
            let folder = url.deletingLastPathComponent().path
            temporaryPath = folder + "/" + AtomicFile.temporaryPrefix(for: url) + String(UInt32.random(in: 0...UInt32.max))
            fd = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw AtomicFileError.writeFailed(path: url.path, reason: "cannot create a temporary file in \(folder): \(MappedFile.errnoText())")
            }
        }

        deinit { discard() }

        /// Appends `bytes`.
        package func write(_ bytes: UnsafeRawBufferPointer) throws(AtomicFileError) {
            precondition(!done, "write after commit or discard")
            var offset = 0
            while offset < bytes.count {
                // Large writes are split: some kernels cap one write at about 2 GiB.
                let written = systemWrite(fd, bytes.baseAddress! + offset, min(bytes.count - offset, 1 << 30))
                if written < 0 {
                    if errno == EINTR { continue }
                    throw failure("write")
                }
                offset += written
            }
        }

        /// Appends an array of bytes.
        package func write(_ bytes: [UInt8]) throws(AtomicFileError) {
            let result: Result<Void, AtomicFileError> = bytes.withUnsafeBytes { raw in
                Result { () throws(AtomicFileError) in try write(raw) }
            }
            try result.get()
        }

        /// Appends the UTF-8 bytes of `text`.
        package func write(_ text: String) throws(AtomicFileError) {
            try write(Array(text.utf8))
        }

        /// Overwrites bytes already written, starting at `offset` (a header whose counts
        /// are known only at the end).
        package func overwrite(_ bytes: [UInt8], at offset: Int) throws(AtomicFileError) {
            precondition(!done, "overwrite after commit or discard")
            var done = 0
            while done < bytes.count {
                let written = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, $0.count - done, off_t(offset + done)) }
                if written < 0 {
                    if errno == EINTR { continue }
                    throw failure("write at offset \(offset)")
                }
                done += written
            }
        }

        /// Flushes the file, renames it over ``url`` and flushes the folder.
        package func commit() throws(AtomicFileError) {
            precondition(!done, "commit after commit or discard")
            // EINVAL: the file system (a pipe, some FUSE mounts) does not support fsync.
            guard fsync(fd) == 0 || errno == EINVAL else { let error = failure("fsync"); discard(); throw error }
            guard close(fd) == 0 else { fd = -1; let error = failure("close"); discard(); throw error }
            fd = -1
            guard rename(temporaryPath, url.path) == 0 else { let error = failure("rename"); discard(); throw error }
            done = true
            AtomicFile.syncFolder(of: url)
        }

        /// Closes and deletes the temporary file; the destination is untouched.
        package func discard() {
            guard !done else { return }
            if fd >= 0 { close(fd) }
            fd = -1
            unlink(temporaryPath)
            done = true
        }

        private func failure(_ what: String) -> AtomicFileError {
            .writeFailed(path: url.path, reason: "\(what): \(MappedFile.errnoText())")
        }
    }

    /// Creates or replaces `url` with the bytes `body` writes to its writer.
    /// - Throws: ``AtomicFileError`` for file-system failures, or whatever `body` throws.
    package static func write(to url: URL, _ body: (Writer) throws -> Void) throws {
        let writer = try Writer(url: url)
        do {
            try body(writer)
        } catch {
            writer.discard()
            throw error
        }
        try writer.commit()
    }

    /// Creates or replaces `url` with `bytes`.
    package static func write(_ bytes: [UInt8], to url: URL) throws(AtomicFileError) {
        let writer = try Writer(url: url)
        try writer.write(bytes)
        try writer.commit()
    }

    /// Creates or replaces `url` with the UTF-8 bytes of `text`.
    package static func write(_ text: String, to url: URL) throws(AtomicFileError) {
        try write(Array(text.utf8), to: url)
    }

    /// Creates or replaces the symbolic link `url` so it points at `destination`: the link
    /// is made under a temporary name and renamed over the old one.
    package static func replaceSymbolicLink(at url: URL, destination: String) throws(AtomicFileError) {
        let temporary = url.deletingLastPathComponent().path + "/" + temporaryPrefix(for: url)
            + String(UInt32.random(in: 0...UInt32.max))
        guard symlink(destination, temporary) == 0 else {
            throw .writeFailed(path: url.path, reason: "cannot create a link in \(url.deletingLastPathComponent().path): \(MappedFile.errnoText())")
        }
        guard rename(temporary, url.path) == 0 else {
            let reason = MappedFile.errnoText()
            unlink(temporary)
            throw .writeFailed(path: url.path, reason: "rename: \(reason)")
        }
        syncFolder(of: url)
    }

    /// The start of the names of this process's temporary files for `url`
    /// (`.NAME.tmp-PID-`), for a signal handler that removes them on Ctrl-C.
    package static func temporaryPrefix(for url: URL) -> String {
        "." + url.lastPathComponent + ".tmp-\(getpid())-"
    }

    /// Flushes the folder holding `url`, so a rename into it is on disk. Best effort: some
    /// file systems cannot open or flush a folder, and the data itself is already safe.
    static func syncFolder(of url: URL) {
        let folder = open(url.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard folder >= 0 else { return }
        _ = fsync(folder)
        close(folder)
    }
}

@inline(__always)
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, buffer, count)
    #else
    return Darwin.write(fd, buffer, count)
    #endif
}

/// Why an atomic write failed. The destination file is unchanged in every case.
package enum AtomicFileError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    case writeFailed(path: String, reason: String)

    package var description: String {
        switch self {
        case let .writeFailed(path, reason): return "\(path): cannot write file: \(reason)"
        }
    }

    package var errorDescription: String? { description }

    /// What went wrong, without the path (for callers whose own error names the path).
    package var reason: String {
        switch self {
        case let .writeFailed(_, reason): return reason
        }
    }
}
