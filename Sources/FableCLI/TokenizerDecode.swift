import ArgumentParser
import FableFormats
import FableTokenizer
import Foundation

/// `fable tokenizer decode`: token ids back to text.
struct TokenizerDecode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode token ids (.npy, .bin, a text list, or --ids) back to text.",
        discussion: """
            The tokens' bytes are joined and decoded as UTF-8; byte sequences that are not \
            valid UTF-8 become U+FFFD. An id outside the vocabulary is an error that names it.
            """
    )

    @OptionGroup var source: TokenizerOptions

    @Option(name: .long, help: ArgumentHelp(
        "A file of ids: .npy, raw .bin (see --bin-dtype), or text with integers separated by spaces, commas or newlines.",
        valueName: "file"))
    var input: String?

    @Option(name: .long, help: ArgumentHelp("Ids on the command line, e.g. \"15496 11 995\".", valueName: "ids"))
    var ids: String?

    @Option(name: .customLong("bin-dtype"), help: ArgumentHelp("Element type of a raw .bin input: uint16 or uint32.",
                                                               valueName: "type"))
    var binDType: String = "uint16"

    @Option(name: .long, help: ArgumentHelp("Decode only this many ids (all when omitted).", valueName: "n"))
    var count: Int?

    @Option(name: .long, help: ArgumentHelp("Skip this many ids first.", valueName: "n"))
    var offset: Int = 0

    @Option(name: .long, help: ArgumentHelp("Write the text to this file instead of standard output.", valueName: "file"))
    var output: String?

    func validate() throws {
        if (input == nil) == (ids == nil) { throw ValidationError("give exactly one of --input <file> or --ids <ids>") }
        if TokenDType(rawValue: binDType) == nil { throw ValidationError("--bin-dtype must be uint16 or uint32, got \(binDType)") }
        if offset < 0 { throw ValidationError("--offset must be 0 or more, got \(offset)") }
        if let count, count < 0 { throw ValidationError("--count must be 0 or more, got \(count)") }
    }

    func run() throws {
        let tokenizer = try source.load()
        var all: [Int]
        if let input {
            all = try TokenArrayReader.read(URL(fileURLWithPath: input), binDType: TokenDType(rawValue: binDType)!)
        } else {
            all = try TokenArrayReader.parseText(ids!, path: "--ids")
        }
        let start = min(offset, all.count)
        let end = count.map { min(all.count, start + $0) } ?? all.count
        all = Array(all[start..<end])
        let bytes = try tokenizer.decodeBytes(all)
        let text = String(decoding: bytes, as: UTF8.self)
        if let output {
            do {
                try AtomicFile.write(text, to: URL(fileURLWithPath: output))
            } catch {
                throw ValidationError("--output \(output): cannot write (\(error.reason))")
            }
            FileHandle.standardError.write(Data("decoded \(all.count) ids -> \(output) (\(text.utf8.count) bytes)\n".utf8))
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}
