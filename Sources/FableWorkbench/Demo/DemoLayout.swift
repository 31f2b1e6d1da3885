import FableFormats
import FableTraining
import Foundation

/// Where `fable demo` puts each file, in the layout `fable train`, `fable generate` and
/// `fable report` use.
struct DemoLayout {
    /// The demo's folder (absolute).
    let root: URL

    init(_ path: String) {
        root = URL(fileURLWithPath: path).standardizedFileURL
    }

    var corpus: URL { root.appendingPathComponent("corpus.txt") }
    var tokenizer: URL { root.appendingPathComponent("tokenizer") }
    var data: URL { root.appendingPathComponent("data") }
    var trainText: URL { data.appendingPathComponent("train.txt") }
    var valText: URL { data.appendingPathComponent("val.txt") }
    var trainTokens: URL { data.appendingPathComponent("train.npy") }
    var valTokens: URL { data.appendingPathComponent("val.npy") }
    var run: URL { root.appendingPathComponent("run") }
    var report: URL { root.appendingPathComponent("report") }
    var samples: URL { root.appendingPathComponent("samples.txt") }
    /// `demo.json`: the demo's settings and results; also marks the folder as a demo's.
    var summary: URL { root.appendingPathComponent("demo.json") }

    /// Everything a demo writes, removed before an earlier demo's folder is reused.
    var artefacts: [URL] { [corpus, tokenizer, data, run, report, samples, summary] }

    /// `url` as a short path for messages and commands: relative to the working folder
    /// when inside it, shell-quoted when it holds characters a shell would split on.
    func display(_ url: URL) -> String {
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).standardizedFileURL.path
        var path = url.standardizedFileURL.path
        if path == cwd {
            path = "."
        } else if path.hasPrefix(cwd == "/" ? "/" : cwd + "/") {
            path = String(path.dropFirst(cwd == "/" ? 1 : cwd.count + 1))
        }
        return Self.shellQuoted(path)
    }

    /// `text` single-quoted when it holds anything but letters, digits and `-_./,:=+@%`.
    static func shellQuoted(_ text: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./,:=+@%")
        if !text.isEmpty && text.allSatisfy({ safe.contains($0) }) { return text }
        return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

// MARK: - The folder

extension DemoPipeline {
    /// Makes the demo's folder ready: creates it, or clears an earlier demo's files from
    /// it; refuses a file, or a folder holding anything else.
    func prepareFolder() throws {
        let fm = FileManager.default
        let root = layout.root
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: root.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw DemoError.outIsFile(path: root.path) }
            let entries = (try? fm.contentsOfDirectory(atPath: root.path))?.filter { $0 != ".DS_Store" } ?? []
            if !entries.isEmpty {
                guard fm.fileExists(atPath: layout.summary.path) else {
                    throw DemoError.outNotEmpty(path: root.path, entries: entries.sorted())
                }
                if let corpusPath {
                    let corpus = URL(fileURLWithPath: corpusPath).standardizedFileURL.path
                    for artefact in layout.artefacts where corpus == artefact.path || corpus.hasPrefix(artefact.path + "/") {
                        throw DemoError.corpusInsideOut(corpus: corpusPath, out: root.path)
                    }
                }
                printStep("folder", "replacing the earlier demo in \(layout.display(root))")
                for artefact in layout.artefacts where fm.fileExists(atPath: artefact.path) {
                    do { try fm.removeItem(at: artefact) } catch {
                        throw DemoError.cannotWrite(path: artefact.path, reason: "could not remove the earlier demo's file: "
                            + error.localizedDescription)
                    }
                }
            }
        }
        for folder in [root, layout.data] { try Self.createFolder(folder) }
        guard fm.isWritableFile(atPath: root.path) else {
            throw DemoError.cannotWrite(path: root.path, reason: "the folder is not writable")
        }
    }

    /// Creates `url` and any missing parents, with the system's reason when one cannot be made.
    static func createFolder(_ url: URL) throws {
        var missing: [URL] = []
        var current = url.standardizedFileURL
        var isDirectory: ObjCBool = false
        while !FileManager.default.fileExists(atPath: current.path, isDirectory: &isDirectory) {
            missing.append(current)
            let parent = current.deletingLastPathComponent()
            if parent.path == current.path { break }
            current = parent
        }
        if !missing.isEmpty && !isDirectory.boolValue {
            throw DemoError.cannotWrite(path: url.path, reason: "\(current.path) is not a folder")
        }
        for folder in missing.reversed() where mkdir(folder.path, 0o755) != 0 && errno != EEXIST {
            throw DemoError.cannotWrite(path: folder.path, reason: String(cString: strerror(errno)))
        }
    }

    /// A short reason from a Foundation file error.
    static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return error.localizedDescription
    }

    /// Writes demo.json atomically.
    func writeSummary(_ summary: DemoSummary) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        do {
            var data = try encoder.encode(summary)
            data.append(UInt8(ascii: "\n"))
            try AtomicFile.write([UInt8](data), to: layout.summary)
        } catch {
            throw DemoError.cannotWrite(path: layout.summary.path, reason: Self.reason(error))
        }
    }
}

// MARK: - demo.json

/// What `demo.json` records: the settings, the data, the run and the stories.
struct DemoSummary: Codable {
    var minutes: Double
    var seed: Int
    var threads: Int
    /// The --corpus file, or nil for the built-in stories.
    var corpus: String?
    var corpusBytes: Int?
    var data: DataRecord?
    var training: TrainingRecord?
    var report: String?
    var stories: [Story]?
    var totalSeconds: Double?

    init(minutes: Double, seed: Int, threads: Int, corpus: String?) {
        self.minutes = minutes
        self.seed = seed
        self.threads = threads
        self.corpus = corpus
    }

    struct DataRecord: Codable {
        var vocabSize: Int
        var trainDocuments: Int
        var valDocuments: Int
        var trainTokens: Int
        var valTokens: Int
        var valBytes: Int
        /// Cross-entropy of the validation tokens under the training split's unigram distribution.
        var unigramBaseline: Double
    }

    struct TrainingRecord: Codable {
        var model: String
        var parameters: Int
        var steps: Int
        var batchSize: Int
        var contextLength: Int
        var learningRate: Double
        var measured: [String: Double]
        var outcome: String
        var stepsDone: Int
        var seconds: Double
        var valLoss: Double?
        var valBitsPerByte: Double?
        var checkpoint: String?
    }

    struct Story: Codable {
        var prompt: String
        var text: String
    }
}

// MARK: - Errors

/// Why `fable demo` could not go on; each message names the option or file at fault.
enum DemoError: Error, CustomStringConvertible {
    case outIsFile(path: String)
    case outNotEmpty(path: String, entries: [String])
    case cannotWrite(path: String, reason: String)
    case corpusInsideOut(corpus: String, out: String)
    case corpusTooSmall(path: String, trainTokens: Int, valTokens: Int)
    case nothingTrained(reason: String)

    var description: String {
        switch self {
        case let .outIsFile(path):
            return "--out \(path) is a file; give a folder for the demo's files"
        case let .outNotEmpty(path, entries):
            let shown = entries.prefix(4).joined(separator: ", ") + (entries.count > 4 ? ", ..." : "")
            return "--out \(path) already holds other files (\(shown)) and no earlier demo (demo.json); "
                + "give an empty or new folder"
        case let .cannotWrite(path, reason):
            return "cannot write \(path): \(reason) (choose another --out)"
        case let .corpusInsideOut(corpus, out):
            return "--corpus \(corpus) lies among the files the demo replaces in \(out); copy it elsewhere or choose another --out"
        case let .corpusTooSmall(path, trainTokens, valTokens):
            return "--corpus \(path) is too small for the demo: \(trainTokens) training and \(valTokens) validation tokens; "
                + "give at least about 100 KB of text in several documents"
        case let .nothingTrained(reason):
            return reason
        }
    }
}
