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
