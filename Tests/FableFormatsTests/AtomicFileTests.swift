import FableFormats
import Foundation
import Testing

private func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("fable-formats-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

private struct Interrupted: Error {}

@Suite("AtomicFile and MappedFile")
struct AtomicFileTests {
    @Test("a write replaces the file whole; a failing write leaves the old content and no temporary file")
    func oldOrNew() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("data.txt")
        try AtomicFile.write("old", to: url)
        #expect(throws: Interrupted.self) {
            try AtomicFile.write(to: url) { writer in
                try writer.write("new, half")
                throw Interrupted()
            }
        }
        #expect(try String(contentsOf: url, encoding: .utf8) == "old")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["data.txt"])
        try AtomicFile.write(to: url) { writer in
            try writer.write("new content")
            try writer.overwrite(Array("NEW".utf8), at: 0)
        }
        #expect(try String(contentsOf: url, encoding: .utf8) == "NEW content")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["data.txt"])
    }

    @Test("an uncommitted writer is discarded when dropped; the destination appears only on commit")
    func writerLifecycle() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("stream.bin")
        do {
            let writer = try AtomicFile.Writer(url: url)
            try writer.write([1, 2, 3])
            #expect(writer.temporaryPath.hasPrefix(folder.path + "/" + AtomicFile.temporaryPrefix(for: url)))
            #expect(!FileManager.default.fileExists(atPath: url.path))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
        let writer = try AtomicFile.Writer(url: url)
        try writer.write([4, 5])
        try writer.commit()
        #expect(try [UInt8](Data(contentsOf: url)) == [4, 5])
    }

    @Test("a missing folder is a typed error naming the file")
    func missingFolder() {
        let url = URL(fileURLWithPath: "/nonexistent-fable-folder/x.json")
        let error = #expect(throws: AtomicFileError.self) { try AtomicFile.write("x", to: url) }
        #expect(error?.description.hasPrefix(url.path + ": cannot write file") == true)
    }

    @Test("a symbolic link is replaced in one step")
    func symbolicLink() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let link = folder.appendingPathComponent("latest")
        try AtomicFile.replaceSymbolicLink(at: link, destination: "a")
        try AtomicFile.replaceSymbolicLink(at: link, destination: "b")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link.path) == "b")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["latest"])
    }

    @Test("a mapped file shows the file's bytes; empty and missing files are handled")
    func mapped() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("m.bin")
        try AtomicFile.write([9, 8, 7], to: url)
        let file = try MappedFile(url: url)
        #expect(Array(file.bytes) == [9, 8, 7])
        let empty = folder.appendingPathComponent("empty")
        try AtomicFile.write([], to: empty)
        #expect(try MappedFile(url: empty).count == 0)
        #expect(throws: MappedFileError.self) { try MappedFile(url: folder.appendingPathComponent("missing")) }
        #expect(throws: MappedFileError.self) { try MappedFile(url: folder) }
    }
}
