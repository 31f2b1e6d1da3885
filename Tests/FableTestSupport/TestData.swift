import Foundation

/// Finds the test data that lives outside the test targets.
///
/// - `../shared` beside the package root (or the folder named by `FABLE_SHARED`) holds the
///   large shared inputs: GPT-2's vocab and merges, CS336 reference outputs, text samples.
///   It is never copied into the repository, so tests that need it are gated with
///   ``sharedAvailable`` and say why they were skipped.
/// - `Tests/Fixtures` holds the small committed golden files made by `Scripts/reference`.
public enum TestData {
    /// The package root, derived from this file's location.
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // FableTestSupport
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    /// The shared data folder, or nil when neither `$FABLE_SHARED` nor `../shared` exists.
    public static let sharedRoot: URL? = {
        let candidates: [URL] = [
            ProcessInfo.processInfo.environment["FABLE_SHARED"].map { URL(fileURLWithPath: $0) },
            packageRoot.deletingLastPathComponent().appendingPathComponent("shared"),
        ].compactMap { $0 }
        return candidates.first { FileManager.default.fileExists(atPath: $0.path) }
    }()

    /// True when the shared data folder was found.
    public static var sharedAvailable: Bool { sharedRoot != nil }

    /// The message shown for tests skipped because the shared folder is missing.
    public static let sharedMissing =
        "shared test data not found: set FABLE_SHARED or place the shared folder beside the package"

    /// A file inside the shared folder, such as `fixtures/corpus.en`.
    /// Tests call this only when ``sharedAvailable`` is true.
    public static func shared(_ relativePath: String) -> URL {
        guard let root = sharedRoot else { preconditionFailure(sharedMissing) }
        return root.appendingPathComponent(relativePath)
    }

    /// True when the opt-in variable `name` is set to a non-empty value other than 0.
    /// Large-data tests use it, e.g. `FABLE_LARGE_TESTS=1 swift test`.
    public static func optIn(_ name: String) -> Bool {
        guard let value = ProcessInfo.processInfo.environment[name] else { return false }
        return !value.isEmpty && value != "0"
    }

    /// The folder of committed golden fixtures.
    public static let fixturesRoot: URL = packageRoot.appendingPathComponent("Tests/Fixtures")

    /// A committed fixture file, such as `tensor/ops.json`.
    public static func fixture(_ relativePath: String) -> URL {
        fixturesRoot.appendingPathComponent(relativePath)
    }

    /// Reads and decodes a committed JSON fixture.
    public static func jsonFixture<T: Decodable>(_ relativePath: String, as type: T.Type = T.self) throws -> T {
        let data = try Data(contentsOf: fixture(relativePath))
        return try JSONDecoder().decode(T.self, from: data)
    }
}
