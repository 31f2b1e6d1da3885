import FableFormats
import Foundation
import Testing
import FableTestSupport
import FableTensor
@testable import FableTraining

private struct NpyFixtures: Decodable {
    struct Header: Decodable { let descr: String; let count: Int; let hex: String }
    let values: [Int]
    let headers: [Header]
}

func temporaryFile(_ name: String) -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fable-training-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder.appendingPathComponent(name)
}

/// Writes `tokens` as a uint16 .npy file with Fable's header encoder.
func writeNpy(_ tokens: [UInt16], _ name: String) throws -> URL {
    let url = temporaryFile(name)
    var bytes = NPYHeader.encode(descr: "<u2", shape: [tokens.count])
    tokens.withUnsafeBytes { bytes.append(contentsOf: $0) }
    try Data(bytes).write(to: url)
    return url
}

@Suite("Token datasets")
struct TokenDatasetTests {
    fileprivate static func fixtures() throws -> NpyFixtures { try TestData.jsonFixture("datasets/headers.json") }

    @Test("numpy files: uint16, uint32, int64, format version 2, and raw .bin read the same tokens",
          arguments: ["tokens_u2.npy", "tokens_u4.npy", "tokens_i8.npy", "tokens_v2.npy", "tokens_u2.bin"])
    func readsNumpyFiles(name: String) throws {
        let url = TestData.fixture("datasets/\(name)")
        let dataset = try TokenDataset(url: url, element: name.hasSuffix(".bin") ? .uint16 : nil, vocabSize: 70_001)
        let values = try Self.fixtures().values + (name == "tokens_u4.npy" ? [70_000] : [])
        #expect(dataset.count == values.count)
        #expect((0..<dataset.count).map { dataset.token(at: $0) } == values.map { Int64($0) })
        var window = [Int32](repeating: -1, count: values.count)
        try dataset.copyTokens(from: 0, count: values.count, into: &window)
        #expect(window == values.map { Int32($0) })
    }

    @Test("bad headers, shapes, dtypes and sizes are clear errors naming the file")
    func rejectsBadFiles() throws {
        func error(_ url: URL, element: TokenDataset.Element? = nil, vocab: Int? = nil) -> TokenDatasetError? {
            do { _ = try TokenDataset(url: url, element: element, vocabSize: vocab); return nil }
            catch let error as TokenDatasetError { return error } catch { return nil }
        }
        let fortran = error(TestData.fixture("datasets/bad_fortran.npy"))
        #expect(fortran.map { if case .invalidNpyHeader = $0 { true } else { false } } == true)
        #expect(error(TestData.fixture("datasets/bad_2d.npy")) == .notOneDimensional(
            path: TestData.fixture("datasets/bad_2d.npy").path, shape: [3, 4]))
        #expect(error(TestData.fixture("datasets/bad_be.npy")) == .unsupportedDType(
            path: TestData.fixture("datasets/bad_be.npy").path, descr: ">u2"))
        #expect(error(TestData.fixture("datasets/tokens_u2.npy"), element: .uint32) != nil)
        #expect(error(TestData.fixture("datasets/tokens_u2.bin")) == .missingDType(path: TestData.fixture("datasets/tokens_u2.bin").path))

        // Truncated and padded copies of a valid file.
        let original = try [UInt8](Data(contentsOf: TestData.fixture("datasets/tokens_u2.npy")))
        let truncated = temporaryFile("truncated.npy")
        try Data(original.dropLast(3)).write(to: truncated)
        #expect(error(truncated) == .sizeMismatch(path: truncated.path, expectedBytes: original.count, actualBytes: original.count - 3))
        #expect(error(truncated)?.description.contains("truncated") == true)
        let padded = temporaryFile("padded.npy")
        try Data(original + [0, 0]).write(to: padded)
        #expect(error(padded) == .sizeMismatch(path: padded.path, expectedBytes: original.count, actualBytes: original.count + 2))
        let oddRaw = temporaryFile("odd.bin")
        try Data([1, 2, 3]).write(to: oddRaw)
        #expect(error(oddRaw, element: .uint16) == .rawSizeNotMultiple(path: oddRaw.path, size: 3, elementSize: 2))
        let notNpy = temporaryFile("text.npy")
        try Data("hello world, not numpy".utf8).write(to: notNpy)
        #expect(error(notNpy).map { if case .invalidNpyHeader = $0 { true } else { false } } == true)
        #expect(error(URL(fileURLWithPath: "/nonexistent/tokens.npy")).map { if case .cannotOpen = $0 { true } else { false } } == true)
        for cut in [0, 5, 9, 40, 127] {
            let prefix = temporaryFile("prefix\(cut).npy")
            try Data(original.prefix(cut)).write(to: prefix)
            #expect(error(prefix) != nil, "prefix \(cut)")
        }
    }

    @Test("token ids at or above the vocab size: found on open (full) or when sampled (lazy)")
    func vocabularyValidation() throws {
        var tokens = [UInt16](repeating: 3, count: 3_000_000)
        tokens[2_500_001] = 500
        tokens[2_900_000] = 600
        let url = try writeNpy(tokens, "badvocab.npy")
        #expect(throws: TokenDatasetError.tokenOutOfRange(path: url.path, index: 2_500_001, value: 500, vocabSize: 500)) {
            try TokenDataset(url: url, vocabSize: 500)
        }
        #expect(throws: Never.self) { try TokenDataset(url: url, vocabSize: 601) }
        let lazy = try TokenDataset(url: url, vocabSize: 500, validation: .lazy)
        var window = [Int32](repeating: 0, count: 10)
        try lazy.copyTokens(from: 0, count: 10, into: &window)
        #expect(throws: TokenDatasetError.tokenOutOfRange(path: url.path, index: 2_500_001, value: 500, vocabSize: 500)) {
            try lazy.copyTokens(from: 2_499_995, count: 10, into: &window)
        }
        // The target of the last position is checked as well.
        #expect(throws: TokenDatasetError.self) {
            var batch = TokenBatch(batchSize: 1, contextLength: 6)
            try lazy.fill(&batch, row: 0, start: 2_499_995)
        }
    }

    @Test("uint32 and int64 ids beyond Int32 or negative are rejected")
    func wideIds() throws {
        let url = temporaryFile("wide.bin")
        let values: [UInt32] = [1, 2, 0x8000_0000, 4]
        try values.withUnsafeBytes { try Data($0).write(to: url) }
        #expect(throws: TokenDatasetError.self) { try TokenDataset(url: url, element: .uint32) }
        let lazy = try TokenDataset(url: url, element: .uint32, validation: .lazy)
        var out = [Int32](repeating: 0, count: 4)
        #expect(throws: TokenDatasetError.tokenOutOfRange(path: url.path, index: 2, value: 0x8000_0000, vocabSize: nil)) {
            try lazy.copyTokens(from: 0, count: 4, into: &out)
        }
        let negative = temporaryFile("negative.bin")
        let signed: [Int64] = [5, -1]
        try signed.withUnsafeBytes { try Data($0).write(to: negative) }
        #expect(throws: TokenDatasetError.tokenOutOfRange(path: negative.path, index: 1, value: -1, vocabSize: nil)) {
            try TokenDataset(url: negative, element: .int64)
        }
    }
}

@Suite("Batches")
struct BatchTests {
    /// A dataset whose token at index i is i % 65_000, so a token reveals its position.
    static func counting(_ n: Int, _ name: String) throws -> TokenDataset {
        try TokenDataset(url: try writeNpy((0..<n).map { UInt16($0 % 65_000) }, name))
    }

    @Test("inputs are windows at uniform starts and targets the next tokens")
    func batchContents() throws {
        let dataset = try Self.counting(1000, "count1000.npy")
        var rng = RandomGenerator(seed: 42)
        let b = try batch(dataset, batchSize: 8, contextLength: 16, rng: &rng)
        #expect(b.inputs.count == 8 * 16 && b.targets.count == 8 * 16)
        for row in 0..<8 {
            let start = b.starts[row]
            #expect(start >= 0 && start <= 1000 - 16 - 1)
            for t in 0..<16 {
                #expect(b.inputs[row * 16 + t] == Int32(start + t))
                #expect(b.targets[row * 16 + t] == Int32(start + t + 1))
            }
        }
        // The same seed gives the same batch; the generator advanced by one draw per row.
        var again = RandomGenerator(seed: 42)
        #expect(try batch(dataset, batchSize: 8, contextLength: 16, rng: &again) == b)
        #expect(again == rng)
    }

    @Test("every valid start occurs, including the last (n − T − 1), and none beyond")
    func coversEveryStart() throws {
        let n = 40, t = 8
        let dataset = try Self.counting(n, "count40.npy")
        var rng = RandomGenerator(seed: 1)
        var seen = Set<Int>()
        for _ in 0..<400 {
            let b = try batch(dataset, batchSize: 4, contextLength: t, rng: &rng)
            seen.formUnion(b.starts)
        }
        #expect(seen == Set(0...(n - t - 1)))
        // With exactly T + 1 tokens the only start is 0 and the last target is the last token.
        let tight = try Self.counting(t + 1, "count9.npy")
        let b = try batch(tight, batchSize: 2, contextLength: t, rng: &rng)
        #expect(b.starts == [0, 0] && b.targets.last == Int32(t))
    }

    @Test("a dataset shorter than the context plus one is a clear error")
    func tooShort() throws {
        let dataset = try Self.counting(16, "count16.npy")
        var rng = RandomGenerator(seed: 1)
        #expect(throws: TokenDatasetError.tooShort(path: dataset.url.path, tokens: 16, needed: 17)) {
            try batch(dataset, batchSize: 1, contextLength: 16, rng: &rng)
        }
        #expect(throws: TokenDatasetError.self) { try batch(dataset, batchSize: 0, contextLength: 4, rng: &rng) }
        #expect(throws: TokenDatasetError.self) { try ValidationBatches(dataset, batchSize: 2, contextLength: 16) }
    }

    @Test("validation batches: fixed non-overlapping windows in order, optional cap")
    func validationBatches() throws {
        let dataset = try Self.counting(103, "count103.npy")
        let batches = try ValidationBatches(dataset, batchSize: 4, contextLength: 10)
        #expect(batches.windowCount == 10)  // (103 − 1) / 10
        #expect(batches.count == 3)
        var starts: [Int] = []
        for i in 0..<batches.count {
            let b = try batches.batch(at: i)
            starts += b.starts
            for (row, start) in b.starts.enumerated() {
                #expect(b.inputs[row * 10] == Int32(start) && b.targets[row * 10 + 9] == Int32(start + 10))
            }
        }
        #expect(starts == Array(stride(from: 0, to: 100, by: 10)))
        #expect(try batches.batch(at: 2).batchSize == 2)
        #expect(try ValidationBatches(dataset, batchSize: 4, contextLength: 10, maxBatches: 2).count == 2)
        #expect(try batches.batch(at: 1) == batches.batch(at: 1))
    }

    @Test("a sparse 6 GB raw file opens without reading it and samples past 4 GiB offsets",
          .enabled(if: TestData.optIn("FABLE_LARGE_TESTS"), "set FABLE_LARGE_TESTS=1"))
    func hugeSparseFile() throws {
        let url = temporaryFile("huge.bin")
        let tokens = 3_000_000_000
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        try handle.truncate(atOffset: UInt64(tokens * 2))
        try handle.seek(toOffset: UInt64(tokens * 2 - 4))
        try handle.write(contentsOf: Data([7, 0, 9, 0]))
        try handle.close()
        defer { try? FileManager.default.removeItem(at: url) }
        let dataset = try TokenDataset(url: url, element: .uint16, vocabSize: 10, validation: .lazy)
        #expect(dataset.count == tokens)
        var window = [Int32](repeating: 0, count: 2)
        try dataset.copyTokens(from: tokens - 2, count: 2, into: &window)
        #expect(window == [7, 9])
        var rng = RandomGenerator(seed: 3)
        let b = try batch(dataset, batchSize: 32, contextLength: 256, rng: &rng)
        #expect(b.starts.contains { $0 > 2_147_483_648 })
    }
}
