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
        .library(name: "FableServer", targets: ["FableServer"]),
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
        .target(name: "FableTensor", dependencies: ["FableFormats", "FableKernels"], swiftSettings: swift6),
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
                "FableServer",  // `fable serve` (issue 20)
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swift6
        ),
        .executableTarget(name: "fable", dependencies: ["FableCLI"], swiftSettings: swift6),
        // --- end layout block.
        // --- kernels helper: FableKernels ---
        // The ISA-specific loops (SGEMM microkernels, elementwise exp/sigmoid) in C with
        // intrinsics; each function carries its own target attribute, so no flags are needed.
        // FableTensor checks the CPU at run time and calls only what it supports.
        .target(name: "FableKernels"),
        // --- end kernels helper ---
        // --- server helper (issue 20): OpenAI-compatible HTTP server and web playground ---
        .target(
            name: "FableServer",
            dependencies: [
                "FableTokenizer", "FableTensor", "FableModel", "FableTraining", "FableFormats", "FableReports",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swift6
        ),
        .testTarget(
            name: "FableServerTests",
            dependencies: ["FableServer", "FableReports", "FableTestSupport"],
            swiftSettings: swift6
        ),
        // --- end server helper ---
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
        // --- reliability (issue 21): runs the built `fable` binary (kill -9, signals, bad
        // options) and replays the fuzzers' regression inputs. Depending on `fable` makes
        // `swift test` build it first.
        .testTarget(
            name: "FableReliabilityTests",
            dependencies: ["fable", "FableFormats", "FableTokenizer", "FableTensor", "FableModel", "FableTraining",
                           "FableFuzzTargets", "FableTestSupport"],
            swiftSettings: swift6
        ),
        // libFuzzer targets for every parser of user files, and their replayer (README
        // "Reliability" says how to fuzz; an ordinary build replays inputs).
        .target(
            name: "FableFuzzTargets",
            dependencies: ["FableFormats", "FableTokenizer", "FableTensor", "FableModel", "FableTraining"],
            swiftSettings: swift6
        ),
        .executableTarget(
            name: "fable-fuzz", dependencies: ["FableFuzzTargets"], path: "Sources/fable-fuzz", swiftSettings: swift6),
        // --- end reliability
    ],
    // The package default stays Swift 5 so a target someone adds builds before it is checked;
    // every target here opts in to Swift 6 with `swift6`. None needs Swift 5: the kernels'
    // worker threads get raw pointers through one checked-by-hand wrapper
    // (Parallel.concurrentPerform; ConcurrentPerform.swift in FableTokenizer).
    swiftLanguageModes: [.v5]
)
