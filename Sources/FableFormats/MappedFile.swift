import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory map of a whole file.
///
/// Large files (token datasets, checkpoints) are mapped rather than read, so opening a
/// multi-gigabyte file costs nothing until its pages are touched, and the operating system
/// shares and evicts the pages as memory requires. The mapping lives as long as the object.
package final class MappedFile: @unchecked Sendable {
    /// The file that was mapped.
    package let url: URL
    /// The file's bytes; valid for the lifetime of this object.
    package let bytes: UnsafeRawBufferPointer

    /// Maps `url` read-only.
    /// - Throws: ``MappedFileError`` when the file cannot be opened, examined or mapped.
    package init(url: URL) throws {
        self.url = url
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else { throw MappedFileError.cannotOpen(path: url.path, reason: Self.errnoText()) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw MappedFileError.cannotOpen(path: url.path, reason: Self.errnoText())
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw MappedFileError.cannotOpen(path: url.path, reason: "not a regular file")
        }
        let size = Int(info.st_size)
        if size == 0 {
            // mmap rejects empty lengths; an empty file is simply zero bytes.
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw MappedFileError.cannotMap(path: url.path, reason: Self.errnoText())
        }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    deinit {
        if let base = bytes.baseAddress {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        }
    }

    /// The file size in bytes.
    package var count: Int { bytes.count }

    /// Tells the kernel the pages will be read in order (read-ahead), or at random.
    package func adviseSequential(_ sequential: Bool) {
        guard let base = bytes.baseAddress else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base), bytes.count,
                    sequential ? MADV_SEQUENTIAL : MADV_RANDOM)
    }

    package static func errnoText() -> String { String(cString: strerror(errno)) }
}

/// Why a file could not be memory-mapped.
package enum MappedFileError: Error, CustomStringConvertible, Equatable, Sendable {
    case cannotOpen(path: String, reason: String)
    case cannotMap(path: String, reason: String)

    package var description: String {
        switch self {
        case let .cannotOpen(path, reason): return "\(path): cannot open file: \(reason)"
        case let .cannotMap(path, reason): return "\(path): cannot memory-map file: \(reason)"
        }
    }
}
