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
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // --- end FableFormats
        .target(
            name: "FableTokenizer",
            dependencies: ["FableFormats", .product(name: "HeapModule", package: "swift-collections")]
        ),
        .target(name: "FableTensor", dependencies: ["FableFormats"]),
        .target(name: "FableModel", dependencies: ["FableTensor"]),
        .target(name: "FableTraining", dependencies: ["FableModel", "FableTensor", "FableFormats"]),
        // --- Layout (issue 15): corpus, reports, orchestration and commands in their own targets.
        .target(name: "FableStories", dependencies: ["FableTensor", "FableFormats"]),
        .target(name: "FableReports", dependencies: ["FableTraining", "FableFormats"]),
        .target(
            name: "FableWorkbench",
            dependencies: [
                "FableTokenizer", "FableTensor", "FableModel", "FableTraining", "FableStories", "FableReports", "FableFormats",
            ]
        ),
        .target(
            name: "FableCLI",
            dependencies: [
                "FableTokenizer", "FableTensor", "FableModel", "FableTraining", "FableStories", "FableReports",
                "FableWorkbench", "FableFormats", "FableInterchange",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "fable", dependencies: ["FableCLI"]),
        // --- end layout block.
        // --- interchange (issue 19): export to Hugging Face transformers and llama.cpp (GGUF), import back ---
        .target(
            name: "FableInterchange",
            dependencies: ["FableTraining", "FableModel", "FableTensor", "FableTokenizer", "FableFormats"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "FableInterchangeTests",
            dependencies: ["FableInterchange", "FableTraining", "FableModel", "FableTensor", "FableTokenizer", "FableFormats", "FableTestSupport"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // --- end interchange ---
        // Locates ../shared and Tests/Fixtures for every test target.
        .target(name: "FableTestSupport", path: "Tests/FableTestSupport"),
        .testTarget(name: "FableTokenizerTests", dependencies: ["FableTokenizer", "FableFormats", "FableTestSupport"]),
        .testTarget(name: "FableTensorTests", dependencies: ["FableTensor", "FableTestSupport"]),
        .testTarget(name: "FableModelTests", dependencies: ["FableModel", "FableTestSupport"]),
        .testTarget(name: "FableTrainingTests", dependencies: ["FableTraining", "FableFormats", "FableTestSupport"]),
        // --- Layout (issue 15) test targets.
        .testTarget(name: "FableStoriesTests", dependencies: ["FableStories", "FableTestSupport"]),
        .testTarget(name: "FableReportsTests", dependencies: ["FableReports", "FableTraining", "FableFormats", "FableTestSupport"]),
        .testTarget(
            name: "FableWorkbenchTests",
            dependencies: ["FableWorkbench", "FableTraining", "FableModel", "FableFormats", "FableTestSupport"]
        ),
        .testTarget(
            name: "FableCLITests",
            dependencies: [
                "FableCLI", "FableWorkbench", "FableTraining", "FableTestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // --- end layout block.
    ],
    // Swift 5 mode: the kernels hand raw pointers to worker threads, which Swift 6's
    // strict Sendable checking rejects without adding safety here.
    swiftLanguageModes: [.v5]
)
