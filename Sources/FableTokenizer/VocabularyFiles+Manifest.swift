import Foundation

// manifest.txt makes a tokenizer folder one unit. It lists each file's size and FNV-1a
// 64-bit hash:
//
//   # Fable tokenizer: these files were written together; a mix is refused on load.
//   vocab.json 1234567 fnv1a64:0123456789abcdef
//   merges.txt 456789 fnv1a64:...
//   special_tokens.txt 14 fnv1a64:...
//
// `save(to:)` writes it *first*, then replaces the files one by one. A kill or full disk
// at any point leaves either the old set with its own manifest, or files that disagree
// with the new manifest, which the loader rejects instead of mixing an old merges.txt with
// a new vocab.json. Folders without a manifest (GPT-2's files, older Fable folders) load
// as before; the merge check in `load(vocabJSON:merges:)` still catches most mixes there.

extension Vocabulary {
    /// The manifest: size and hash of every file, written before them.
    public static let manifestFileName = "manifest.txt"

    /// The manifest's text for the given file contents.
    static func manifestText(_ files: [(name: String, bytes: [UInt8])]) -> String {
        var text = "# Fable tokenizer: these files were written together; a mix is refused on load.\n"
        for file in files {
            text += "\(file.name) \(file.bytes.count) fnv1a64:\(hexHash(file.bytes))\n"
        }
        return text
    }

    /// FNV-1a, 64 bits: cheap, and enough to tell two versions of a file apart (this
    /// guards against accidents, not against tampering).
    static func hexHash(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// The manifest's entries (name -> size and hash), or nil when the folder has none.
    static func readManifest(in directory: URL) throws -> [String: (size: Int, hash: String)]? {
        let url = directory.appendingPathComponent(manifestFileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let text = String(decoding: try readFile(url), as: UTF8.self)
        var entries: [String: (size: Int, hash: String)] = [:]
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: " ")
            guard fields.count == 3, let size = Int(fields[1]), fields[2].hasPrefix("fnv1a64:") else {
                throw VocabularyFileError.malformed(path: url.path, line: index + 1, column: 1,
                                                    expected: "\"NAME SIZE fnv1a64:HASH\"")
            }
            entries[String(fields[0])] = (size, String(fields[2].dropFirst(8)))
        }
        return entries
    }

    /// Checks that `bytes`, read from `name` in `directory`, is the file the manifest lists.
    static func checkManifest(_ manifest: [String: (size: Int, hash: String)]?, name: String, bytes: [UInt8]?,
                              in directory: URL) throws {
        guard let manifest else { return }
        let path = directory.appendingPathComponent(name).path
        let manifestPath = directory.appendingPathComponent(manifestFileName).path
        guard let expected = manifest[name] else {
            if bytes == nil { return }
            throw VocabularyFileError.mismatchedSet(path: path, reason: "\(manifestFileName) does not list it")
        }
        guard let bytes else {
            throw VocabularyFileError.mismatchedSet(path: path, reason: "it is missing but \(manifestFileName) lists it")
        }
        if bytes.count != expected.size || hexHash(bytes) != expected.hash {
            throw VocabularyFileError.mismatchedSet(
                path: path,
                reason: "it is not the file \(manifestPath) lists (\(bytes.count) bytes, \(expected.size) expected): "
                    + "the folder holds files from different tokenizers, probably a save that was cut short; "
                    + "train or copy the tokenizer again")
        }
    }
}
