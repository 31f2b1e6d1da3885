import ArgumentParser
import FableTestSupport
import Foundation
import Testing
@testable import FableCLI

/// What `fable` prints for bad options and files: each message names the option or the file.
@Suite("fable error messages", .serialized)
struct ErrorMessageTests {
    let folder = TemporaryFolder("fable-cli-errors")
    func path(_ name: String) -> String { folder.url.appendingPathComponent(name).path }

    @Test("options out of range name the option and the value")
    func badOptions() {
        #expect(fableError(["corpus", "--stories", "0"]) == "--stories must be at least 1, got 0")
        #expect(fableError(["tokenizer", "encode", "--tokenizer", path("tok"), "--input", path("a.txt"),
                            "--output", path("a.txt")])
            == "--output \(path("a.txt")): expected a path ending in .npy or .bin")
        #expect(fableError(["tokenizer", "encode", "--tokenizer", path("tok"), "--input", path("a.txt"),
                            "--output", path("a.npy"), "--dtype", "int8"])
            == "--dtype must be auto, uint16 or uint32, got int8")
        #expect(fableError(["train", "--preset", "cpu-small", "--config", path("c.json")])
            == "give either --preset or --config, not both")
        #expect(fableError(["demo", "--minutes", "0"]) == "--minutes must be between 0.1 and 1440, got 0.0")
        #expect(fableError(["no-such-command"])?.contains("no-such-command") == true)
    }

    @Test("--set with an unknown key names it and suggests the nearest one")
    func unknownSetKey() throws {
        try Data([0x93, 0x4E]).write(to: URL(fileURLWithPath: path("x.npy")))
        let message = fableError(["train", "--preset", "cpu-small", "--train", path("x.npy"), "--out", path("run"),
                                  "--set", "stepz=5"])
        #expect(message?.hasPrefix("--set stepz=5: unknown key stepz (did you mean steps?)") == true, "\(message ?? "")")
    }

    @Test("missing and unreadable files are named")
    func badFiles() throws {
        #expect(fableError(["train", "--preset", "cpu-small", "--train", path("missing.npy"), "--out", path("run"),
                            "--quiet"])
            == "\(path("missing.npy")): cannot open token file: No such file or directory")
        try folder.write("some text", to: "raw.txt")
        #expect(fableError(["train", "--preset", "cpu-small", "--train", path("raw.txt"), "--out", path("run2")])
            == "\(path("raw.txt")): a raw token file needs its dtype (uint16 or uint32); only .npy files carry one")
        #expect(fableError(["tokenizer", "encode", "--tokenizer", path("none"), "--input", path("a.txt"),
                            "--output", path("a.npy")])
            == "--tokenizer \(path("none")): not a directory (expected vocab.json and merges.txt inside)")
        #expect(fableError(["generate", "--checkpoint", path("nothere.safetensors")])
            == "\(path("nothere.safetensors")): no such file")
        #expect(fableError(["generate", "--checkpoint", path("nothere.safetensors"), "--tokenizer", path("none")])
            == "\(path("nothere.safetensors")): no such file")
    }
}
