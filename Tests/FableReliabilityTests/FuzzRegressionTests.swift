import FableFuzzTargets
import FableTestSupport
import Foundation
import Testing

/// Replays the inputs the fuzzers (Sources/fable-fuzz) kept: the crashes they found, now
/// fixed, and seeds. Each must parse or fail with a typed error; a trap fails the run.
@Suite("Fuzz regression inputs")
struct FuzzRegressionTests {
    @Test("every committed input parses or fails with a typed error", arguments: FuzzTargets.all.map(\.name))
    func replay(_ target: String) throws {
        let folder = TestData.fixturesRoot.appendingPathComponent("fuzz/\(target)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        let scratch = scratchFolder("fuzz-\(target)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        for name in names.sorted() where !name.hasPrefix(".") {
            // The parsers choose by extension (.npy), so each input is copied under the right one.
            let parser = FuzzTargets.named(target)!
            let input = scratch.appendingPathComponent(name).appendingPathExtension(parser.fileExtension)
            try FileManager.default.copyItem(at: folder.appendingPathComponent(name), to: input)
            do { try parser.parse(input) } catch {
                #expect(!"\(error)".isEmpty)
            }
        }
    }
}
