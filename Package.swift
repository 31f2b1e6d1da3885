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
        .library(name: "FableServer", targets: ["FableServer"]),
        .executable(name: "fable", targets: ["fable"]),
    ],
    dependencies: [
        // Command-line parsing with generated help for every option.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Heap: the BPE trainer's priority queue of pair counts.
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        // --- server helper (issue 20) ---
        // Hummingbird rather than raw SwiftNIO: it already owns the parts of an HTTP server
        // that are easy to get subtly wrong (HTTP/1.1 parsing and keep-alive, request-body
        // limits, streamed response bodies with back-pressure, graceful shutdown through
        // ServiceLifecycle), while still being a thin layer on NIO with async/await. Raw NIO
        // would mean writing a channel pipeline, a request router and a streaming body writer
        // by hand for no gain in control we need.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // Hummingbird's own dependencies, named for the two types the server uses directly
        // (the listening channel's address; the service group that shuts it down; the log level).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // --- end server helper ---
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
                "FableTokenizer", "FableTensor", "FableModel", "FableTraining",
                "FableServer",  // server helper (issue 20): `fable serve`
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // --- server helper (issue 20): OpenAI-compatible HTTP server and web playground ---
        .target(
            name: "FableServer",
            dependencies: [
                "FableTokenizer", "FableTensor", "FableModel", "FableTraining",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "FableServerTests",
            dependencies: ["FableServer", "FableTestSupport"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // --- end server helper ---
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
