// swift-tools-version: 6.1
import PackageDescription

// Fable: a language-model workbench in Swift. The targets follow the pipeline and their
// dependencies point one way:
//   FableStories (built-in corpus) -> FableTokenizer (BPE) -> FableTensor -> FableModel
//   -> FableTraining (loop, optimizers, data, checkpoints, metrics) -> FableReports (HTML/SVG)
//   -> FableWorkbench (demo pipeline, run planning, the progress display; no ArgumentParser)
//   -> FableCLI (the ArgumentParser commands) -> fable (the executable: a thin main).
// FableTokenizer needs no tensors; FableStories needs only FableTensor's random generator.
// Library targets carry no unsafe flags so other packages can depend on them.
let package = Package(
    name: "Fable",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "FableTokenizer", targets: ["FableTokenizer"]),
        .library(name: "FableTensor", targets: ["FableTensor"]),
        .library(name: "FableModel", targets: ["FableModel"]),
        .library(name: "FableTraining", targets: ["FableTraining"]),
        .library(name: "FableStories", targets: ["FableStories"]),
        .library(name: "FableReports", targets: ["FableReports"]),
        .executable(name: "fable", targets: ["fable"]),
    ],
    dependencies: [
        // Command-line parsing with generated help for every option.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Heap: the BPE trainer's priority queue of pair counts.
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
    ],
    targets: [
        .target(
            name: "FableTokenizer",
            dependencies: [.product(name: "HeapModule", package: "swift-collections")]
        ),
        .target(name: "FableTensor"),
        .target(name: "FableModel", dependencies: ["FableTensor"]),
        .target(name: "FableTraining", dependencies: ["FableModel", "FableTensor"]),
        // --- Layout (issue 15): corpus, reports, orchestration and commands in their own targets.
        .target(name: "FableStories", dependencies: ["FableTensor"]),
        .target(name: "FableReports", dependencies: ["FableTraining"]),
        .target(
            name: "FableWorkbench",
            dependencies: ["FableTokenizer", "FableTensor", "FableModel", "FableTraining", "FableStories", "FableReports"]
        ),
        .target(
            name: "FableCLI",
            dependencies: [
                "FableTokenizer", "FableTensor", "FableModel", "FableTraining", "FableStories", "FableReports",
                "FableWorkbench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "fable", dependencies: ["FableCLI"]),
        // --- end layout block.
        // Locates ../shared and Tests/Fixtures for every test target.
        .target(name: "FableTestSupport", path: "Tests/FableTestSupport"),
        .testTarget(name: "FableTokenizerTests", dependencies: ["FableTokenizer", "FableTestSupport"]),
        .testTarget(name: "FableTensorTests", dependencies: ["FableTensor", "FableTestSupport"]),
        .testTarget(name: "FableModelTests", dependencies: ["FableModel", "FableTestSupport"]),
        .testTarget(name: "FableTrainingTests", dependencies: ["FableTraining", "FableTestSupport"]),
        // --- Layout (issue 15) test targets.
        .testTarget(name: "FableStoriesTests", dependencies: ["FableStories", "FableTestSupport"]),
        .testTarget(name: "FableReportsTests", dependencies: ["FableReports", "FableTraining", "FableTestSupport"]),
        .testTarget(
            name: "FableWorkbenchTests",
            dependencies: ["FableWorkbench", "FableTraining", "FableModel", "FableTestSupport"]
        ),
        .testTarget(
            name: "FableCLITests",
            dependencies: [
                "FableCLI", "FableWorkbench", "FableTraining", "FableTestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // --- end layout block.
        // --- reliability (issue 21): runs the built `fable` binary (kill -9, signals, bad
        // options) and replays the fuzzers' regression inputs. Depending on `fable` makes
        // `swift test` build it first.
        .testTarget(
            name: "FableReliabilityTests",
            dependencies: ["fable", "FableTokenizer", "FableTensor", "FableModel", "FableTraining", "FableTestSupport"]
        ),
        // libFuzzer targets for every parser of user files, and their replayer (README
        // "Reliability" says how to fuzz; an ordinary build replays inputs).
        .executableTarget(
            name: "fable-fuzz",
            dependencies: ["FableTokenizer", "FableTensor", "FableModel", "FableTraining"],
            path: "Sources/fable-fuzz"
        ),
        // --- end reliability
    ],
    // Swift 5 mode: the kernels hand raw pointers to worker threads, which Swift 6's
    // strict Sendable checking rejects without adding safety here.
    swiftLanguageModes: [.v5]
)
