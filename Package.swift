// swift-tools-version: 6.1
import PackageDescription

// Fable: a language-model workbench in Swift. Dependencies point one way:
// fable -> FableTraining -> FableModel -> FableTensor; FableTokenizer stands alone.
// Library targets carry no unsafe flags so other packages can depend on them.
let package = Package(
    name: "Fable",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "FableTokenizer", targets: ["FableTokenizer"]),
        .library(name: "FableTensor", targets: ["FableTensor"]),
        .library(name: "FableModel", targets: ["FableModel"]),
        .library(name: "FableTraining", targets: ["FableTraining"]),
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
        .target(
            name: "FableTokenizer",
            dependencies: [.product(name: "HeapModule", package: "swift-collections")]
        ),
        .target(name: "FableTensor"),
        .target(name: "FableModel", dependencies: ["FableTensor"]),
        .target(name: "FableTraining", dependencies: ["FableModel", "FableTensor"]),
        .executableTarget(
            name: "fable",
            dependencies: [
                "FableTokenizer", "FableTensor", "FableModel", "FableTraining", "FableInterchange",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // --- interchange (issue 19): export to Hugging Face transformers and llama.cpp (GGUF), import back ---
        .target(
            name: "FableInterchange",
            dependencies: ["FableTraining", "FableModel", "FableTensor", "FableTokenizer"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "FableInterchangeTests",
            dependencies: ["FableInterchange", "FableTraining", "FableModel", "FableTensor", "FableTokenizer", "FableTestSupport"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // --- end interchange ---
        // Locates ../shared and Tests/Fixtures for every test target.
        .target(name: "FableTestSupport", path: "Tests/FableTestSupport"),
        .testTarget(name: "FableTokenizerTests", dependencies: ["FableTokenizer", "FableTestSupport"]),
        .testTarget(name: "FableTensorTests", dependencies: ["FableTensor", "FableTestSupport"]),
        .testTarget(name: "FableModelTests", dependencies: ["FableModel", "FableTestSupport"]),
        .testTarget(name: "FableTrainingTests", dependencies: ["FableTraining", "FableTestSupport"]),
    ],
    // Swift 5 mode: the kernels hand raw pointers to worker threads, which Swift 6's
    // strict Sendable checking rejects without adding safety here.
    swiftLanguageModes: [.v5]
)
