// swift-tools-version: 6.1
import PackageDescription

// Fable: a language-model workbench in Swift. Dependencies point one way:
// fable -> FableTraining -> FableModel -> FableTensor; FableTokenizer needs no tensors.
// Both rest on FableFormats, the one home of the shared file formats.
// Library targets carry no unsafe flags so other packages can depend on them.
let package = Package(
    name: "Fable",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "FableTokenizer", targets: ["FableTokenizer"]),
        .library(name: "FableTensor", targets: ["FableTensor"]),
        .library(name: "FableModel", targets: ["FableModel"]),
        .library(name: "FableTraining", targets: ["FableTraining"]),
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
        .executableTarget(
            name: "fable",
            dependencies: [
                "FableTokenizer", "FableTensor", "FableModel", "FableTraining", "FableFormats",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Locates ../shared and Tests/Fixtures for every test target.
        .target(name: "FableTestSupport", path: "Tests/FableTestSupport"),
        .testTarget(name: "FableTokenizerTests", dependencies: ["FableTokenizer", "FableFormats", "FableTestSupport"]),
        .testTarget(name: "FableTensorTests", dependencies: ["FableTensor", "FableTestSupport"]),
        .testTarget(name: "FableModelTests", dependencies: ["FableModel", "FableTestSupport"]),
        .testTarget(name: "FableTrainingTests", dependencies: ["FableTraining", "FableFormats", "FableTestSupport"]),
    ],
    // Swift 5 mode: the kernels hand raw pointers to worker threads, which Swift 6's
    // strict Sendable checking rejects without adding safety here.
    swiftLanguageModes: [.v5]
)
