import Foundation
import Testing

/// Options and environments that used to trap, hang or pass silently: each must end with
/// a clear message naming the option, and an ordinary exit status (never a signal).
extension FableBinaryTests {
@Suite("Command-line errors")
struct CommandLineErrorTests {
    /// Runs fable and checks it failed cleanly with `needle` in its error output.
    private func expectCleanFailure(_ arguments: [String], environment: [String: String] = [:], shell: String? = nil,
                                    mentions needle: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = try FableProcess.run(arguments, environment: environment, shell: shell, timeout: 60)
        #expect(!result.signalled, "fable \(arguments) ended by a signal: \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.status != 0 && result.status < 128, "status \(result.status)", sourceLocation: sourceLocation)
        #expect(result.stderr.contains(needle), "stderr: \(result.stderr)", sourceLocation: sourceLocation)
    }

    private func textFile(_ text: String) throws -> URL {
        let url = scratchFolder("text").appendingPathComponent("input.txt")
        try Data(text.utf8).write(to: url)
        return url
    }

    @Test("tokenizer train --chunk-mib inf, 1e300 and nan are refused by name", arguments: ["inf", "1e300", "nan"])
    func chunkSize(_ value: String) throws {
        let input = try textFile("hello world\n")
        try expectCleanFailure(["tokenizer", "train", "--input", input.path, "--vocab-size", "300", "--chunk-mib", value,
                                "--out", input.deletingLastPathComponent().appendingPathComponent("tok").path],
                               mentions: "--chunk-mib")
    }

    @Test("tokenizer train --special-token e is refused before training, and --threads 100000 up front")
    func tokenizerTrainOptions() throws {
        let input = try textFile("hello world\n")
        let out = input.deletingLastPathComponent().appendingPathComponent("tok")
        try expectCleanFailure(["tokenizer", "train", "--input", input.path, "--vocab-size", "300", "--special-token", "e",
                                "--out", out.path, "--quiet"], mentions: "single byte")
        #expect(!FileManager.default.fileExists(atPath: out.path))
        try expectCleanFailure(["tokenizer", "train", "--input", input.path, "--vocab-size", "300", "--threads", "100000",
                                "--out", out.path], mentions: "--threads")
    }

    @Test("FABLE_THREADS=0, -3 and abc are refused, naming the variable", arguments: ["0", "-3", "abc"])
    func threadsVariable(_ value: String) throws {
        try expectCleanFailure(["train", "--preset", "cpu-small", "--dry-run"], environment: ["FABLE_THREADS": value],
                               mentions: "FABLE_THREADS")
    }

    @Test("worker threads that cannot start are an error, not a hang")
    func threadsCannotStart() throws {
        // 1 GiB thread stacks under a 6 GiB address-space limit: 64 threads cannot start.
        try expectCleanFailure(["train", "--preset", "cpu-small", "--threads", "64", "--dry-run"],
                               shell: "ulimit -s 1048576 && ulimit -v 6291456 && exec", mentions: "cannot start 64 worker threads")
    }

    @Test("--set sizes beyond limits fail at --dry-run, naming the key",
          arguments: [("steps=4611686018427387904", "steps"), ("batch_size=99999999999", "batch_size"),
                      ("model.d_ff=1073741824", "model.d_ff"), ("model.num_layers=100000", "model")])
    func sizeLimits(_ set: String, _ key: String) throws {
        try expectCleanFailure(["train", "--preset", "cpu-small", "--set", set, "--dry-run"], mentions: key)
    }
}
}

extension FableBinaryTests.CommandLineErrorTests {
    @Test("a folder where a file is expected is named with its option, not NSCocoaErrorDomain; no usage text")
    func folderForFile() throws {
        let folder = scratchFolder("folder")
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try FableProcess.run(["tokenizer", "decode", "--vocab", folder.path, "--merges", folder.path,
                                           "--input", folder.path], timeout: 60)
        #expect(result.status == 1 && !result.signalled)
        #expect(result.stderr.contains("--vocab \(folder.path): is a folder; expected a file"), "\(result.stderr)")
        #expect(!result.stderr.contains("NSCocoaErrorDomain") && !result.stderr.contains("USAGE"))
    }
}

extension FableBinaryTests.CommandLineErrorTests {
    @Test("decode with a --count near Int.max, and generate --prompt - with a folder as standard input, fail cleanly")
    func decodeAndGenerateInputs() throws {
        let folder = scratchFolder("pipeline")
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = folder.appendingPathComponent("text.txt")
        try Data(String(repeating: "the cat sat on the mat. <|endoftext|>\n", count: 200).utf8).write(to: text)
        let tok = folder.appendingPathComponent("tok").path
        let trained = try FableProcess.run(["tokenizer", "train", "--input", text.path, "--vocab-size", "280", "--out", tok, "--quiet"])
        #expect(trained.status == 0, "\(trained.stderr)")

        let decoded = try FableProcess.run(["tokenizer", "decode", "--tokenizer", tok, "--ids", "65 66 67",
                                            "--offset", "1", "--count", "9223372036854775807"])
        #expect(decoded.status == 0 && !decoded.signalled, "\(decoded.stderr)")
        #expect(decoded.stdout.hasPrefix("AB"), "\(decoded.stdout)")  // id 0 is <|endoftext|>, then the bytes

        let ids = folder.appendingPathComponent("ids.npy").path
        let encoded = try FableProcess.run(["tokenizer", "encode", "--tokenizer", tok, "--input", text.path, "--output", ids])
        #expect(encoded.status == 0, "\(encoded.stderr)")
        let run = folder.appendingPathComponent("run").path
        let model = try FableProcess.run(["train", "--preset", "cpu-small", "--set", "model.vocab_size=288",
                                          "--set", "model.context_length=16", "--set", "model.d_model=16", "--set", "model.num_layers=1",
                                          "--set", "model.num_heads=2", "--set", "model.d_ff=32", "--set", "steps=2",
                                          "--set", "batch_size=2", "--set", "schedule.warmup_steps=1", "--set", "threads=1",
                                          "--train", ids, "--out", run, "--quiet"])
        #expect(model.status == 0, "\(model.stderr)")
        let generated = try FableProcess.run(["generate", "--checkpoint", run + "/checkpoints/latest.safetensors",
                                              "--tokenizer", tok, "--prompt", "-", "--threads", "1"], shell: "exec 0</ && exec")
        #expect(!generated.signalled && generated.status == 1, "\(generated.stderr)")
        #expect(generated.stderr.contains("standard input"), "\(generated.stderr)")
    }
}
