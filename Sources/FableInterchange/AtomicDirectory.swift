import FableFormats
import FableTensor
import Foundation

/// Writes a folder as a unit: its files are made in a temporary sibling folder, which is
/// renamed into place only when every file is complete. A crash or an error leaves either
/// nothing or the previous folder, never a half-written one. Files inside are written with
/// FableFormats' ``AtomicFile`` (flushed to disk before the rename).
public enum AtomicDirectory {
    /// Creates the folder `url` with the files `body` writes into the folder it is given.
    /// - Parameter overwrite: replace an existing `url`; otherwise an existing path is an error.
    /// - Throws: ``InterchangeError/outputExists(path:)``, ``InterchangeError/writeFailed(path:reason:)``
    ///   or whatever `body` throws (after removing the temporary folder).
    public static func write(to url: URL, overwrite: Bool, _ body: (URL) throws -> Void) throws {
        let fileManager = FileManager.default
        let destination = url.standardizedFileURL
        let parent = destination.deletingLastPathComponent()
        if fileManager.fileExists(atPath: destination.path) && !overwrite {
            throw InterchangeError.outputExists(path: url.path)
        }
        do {
            try fileManager.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw InterchangeError.writeFailed(path: parent.path, reason: "cannot create the folder (\(error.localizedDescription))")
        }
        let temporary = sibling(of: destination, tag: "tmp")
        do {
            try fileManager.createDirectory(at: temporary, withIntermediateDirectories: false)
        } catch {
            throw InterchangeError.writeFailed(path: temporary.path, reason: "cannot create a temporary folder (\(error.localizedDescription))")
        }
        do {
            try body(temporary)
            var previous: URL?
            if fileManager.fileExists(atPath: destination.path) {
                let old = sibling(of: destination, tag: "old")
                guard rename(destination.path, old.path) == 0 else {
                    throw InterchangeError.writeFailed(path: destination.path, reason: "cannot move the old output aside: \(String(cString: strerror(errno)))")
                }
                previous = old
            }
            guard rename(temporary.path, destination.path) == 0 else {
                let reason = String(cString: strerror(errno))
                if let previous { _ = rename(previous.path, destination.path) }
                throw InterchangeError.writeFailed(path: destination.path, reason: "rename: \(reason)")
            }
            if let previous { try? fileManager.removeItem(at: previous) }
        } catch {
            try? fileManager.removeItem(at: temporary)
            throw error
        }
    }

    /// Writes `bytes` as the file `name` inside `folder`.
    public static func writeFile(_ bytes: [UInt8], named name: String, in folder: URL) throws {
        try AtomicFile.write(bytes, to: folder.appendingPathComponent(name))
    }

    private static func sibling(of url: URL, tag: String) -> URL {
        url.deletingLastPathComponent().appendingPathComponent(
            ".\(url.lastPathComponent).\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    }
}
