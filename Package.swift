// swift-tools-version: 6.1
import PackageDescription

// Fable: a language-model workbench in Swift. The targets follow the pipeline and their
// dependencies point one way:
//   FableStories (built-in corpus) -> FableTokenizer (BPE) -> FableTensor -> FableModel
//   -> FableTraining (loop, optimizers, data, checkpoints, metrics) -> FableReports (HTML/SVG)
//   -> FableWorkbench (demo pipeline, run planning, the progress display; no ArgumentParser)
//   -> FableCLI (the ArgumentParser commands) -> fable (the executable: a thin main).
// FableTokenizer needs no tensors; FableStories needs only FableTensor's random generator.
// FableTokenizer and FableTensor rest on FableFormats, the one home of shared file formats.
// Library targets carry no unsafe flags so other packages can depend on them.
/// Swift 6 language mode (full data-race checking): every target opts in.
let swift6: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "Fable",
    // macOS 15: Mutex and Atomic from the Synchronization module guard the few globals.
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "FableTokenizer", targets: ["FableTokenizer"]),
        .library(name: "FableTensor", targets: ["FableTensor"]),
        .library(name: "FableModel", targets: ["FableModel"]),
        .library(name: "FableTraining", targets: ["FableTraining"]),
        .library(name: "FableDistributed", targets: ["FableDistributed"]),
        .library(name: "FableStories", targets: ["FableStories"]),
        .library(name: "FableReports", targets: ["FableReports"]),
        // --- interchange (issue 19) ---
        .library(name: "FableInterchange", targets: ["FableInterchange"]),
        // --- end interchange ---
        .executable(name: "fable", targets: ["fable"]),
    ],
    dependencies: [
        // Command-line parsing with generated help for every option.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Heap: the BPE trainer's priority queue of pair counts.
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
    ],
    targets: [
        // --- FableFormats (formats helper): JSON, .npy, AtomicFile, MappedFile. Internal:
        // no product, its API has `package` access. Swift 6 language mode.
        .target(name: "FableFormats", swiftSettings: [.swiftLanguageMode(.v6)]),
        .testTarget(
            name: "FableFormatsTests", dependencies: ["FableFormats", "FableTestSupport"],
            swiftSettings: swift6
        ),
        // --- end FableFormats
        .target(
            name: "FableTokenizer",
            dependencies: ["FableFormats", .product(name: "HeapModule", package: "swift-collections")],
            swiftSettings: swift6
        ),
        .target(name: "FableTensor", dependencies: ["FableFormats"], swiftSettings: swift6),
        .target(name: "FableModel", dependencies: ["FableTensor"], swiftSettings: swift6),
        .target(
            name: "FableTraining", dependencies: ["FableModel", "FableTensor", "FableFormats", "FableDistributed"],
            swiftSettings: swift6
        ),
        // --- Layout (issue 15): corpus, reports, orchestration and commands in their own targets.
        .target(name: "FableStories", dependencies: ["FableTensor", "FableFormats"], swiftSettings: swift6),
        .target(name: "FableReports", dependencies: ["FableTraining", "FableFormats"], swiftSettings: swift6),
        .target(
            name: "FableWorkbench",
            dependencies: [
                "FableTokenizer", "FableTensor", "FableModel", "FableTraining", "FableStories", "FableReports", "FableFormats",
                "FableDistributed",
            ],
            swiftSettings: swift6
        ),
        .target(
            name: "FableCLI",
            dependencies: [
                "FableTokenizer", "FableTensor", "FableModel", "FableTraining", "FableStories", "FableReports",
                "FableWorkbench", "FableFormats", "FableDistributed", "FableInterchange",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swift6
        ),
        .executableTarget(name: "fable", dependencies: ["FableCLI"], swiftSettings: swift6),
        // --- end layout block.
        // --- interchange (issue 19): export to Hugging Face transformers and llama.cpp (GGUF), import back ---
        .target(
            name: "FableInterchange",
            dependencies: ["FableTraining", "FableModel", "FableTensor", "FableTokenizer", "FableFormats"],
            swiftSettings: swift6
        ),
        .testTarget(
            name: "FableInterchangeTests",
            dependencies: ["FableInterchange", "FableTraining", "FableModel", "FableTensor", "FableTokenizer", "FableFormats", "FableTestSupport"],
            swiftSettings: swift6
        ),
        // --- end interchange ---
        // Locates ../shared and Tests/Fixtures for every test target.
        .target(name: "FableTestSupport", path: "Tests/FableTestSupport", swiftSettings: swift6),
        .testTarget(
            name: "FableTokenizerTests", dependencies: ["FableTokenizer", "FableFormats", "FableTestSupport"],
            swiftSettings: swift6
        ),
        .testTarget(name: "FableTensorTests", dependencies: ["FableTensor", "FableTestSupport"], swiftSettings: swift6),
        .testTarget(name: "FableModelTests", dependencies: ["FableModel", "FableTestSupport"], swiftSettings: swift6),
        .testTarget(
            name: "FableTrainingTests", dependencies: ["FableTraining", "FableFormats", "FableTestSupport"],
            swiftSettings: swift6
        ),
        // --- Layout (issue 15) test targets.
        .testTarget(name: "FableStoriesTests", dependencies: ["FableStories", "FableTestSupport"], swiftSettings: swift6),
        .testTarget(
            name: "FableReportsTests", dependencies: ["FableReports", "FableTraining", "FableFormats", "FableTestSupport"],
            swiftSettings: swift6
        ),
        .testTarget(
            name: "FableWorkbenchTests",
            dependencies: ["FableWorkbench", "FableTraining", "FableModel", "FableTokenizer", "FableFormats", "FableTestSupport"],
            swiftSettings: swift6
        ),
        .testTarget(
            name: "FableCLITests",
            dependencies: [
                "FableCLI", "FableWorkbench", "FableTraining", "FableTestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swift6
        ),
        // --- end layout block.

        // MARK: Distributed training (issue 17): MPI loaded at run time with dlopen.
        // FableTraining's data-parallel trainer uses it; Swift 6 mode (it compiles cleanly).
        .target(
            name: "FableDistributed", dependencies: ["FableTensor"], swiftSettings: swift6),
        .testTarget(
            name: "FableDistributedTests",
            dependencies: ["FableDistributed", "FableTraining", "FableTestSupport"], swiftSettings: swift6),
        // MARK: end of distributed training
    ],
    // The package default stays Swift 5 so a target someone adds builds before it is checked;
    // every target here opts in to Swift 6 with `swift6`. None needs Swift 5: the kernels'
    // worker threads get raw pointers through one checked-by-hand wrapper
    // (Parallel.concurrentPerform; ConcurrentPerform.swift in FableTokenizer).
    swiftLanguageModes: [.v5]
)
