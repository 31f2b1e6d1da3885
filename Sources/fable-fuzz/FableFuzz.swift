import FableFuzzTargets
import Foundation

// `fable-fuzz`: libFuzzer targets for the parsers of user files (see FuzzTargets), and a
// replayer for the inputs they found.
//
//   Fuzzing (Linux, Swift 6.3; README "Reliability"):
//     swift build --product fable-fuzz -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library \
//         -Xswiftc -DFUZZING -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld
//     FABLE_FUZZ_TARGET=vocab-json .build/debug/fable-fuzz -max_total_time=60 corpus/
//   Replaying (an ordinary build; the tests do the same):
//     fable-fuzz TARGET FILE...

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// The target chosen by FABLE_FUZZ_TARGET.
private let fuzzTarget: FuzzTargets.Target = {
    let name = ProcessInfo.processInfo.environment["FABLE_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTargets.named(name) else {
        FileHandle.standardError.write(Data("set FABLE_FUZZ_TARGET to one of: \(FuzzTargets.all.map(\.name).joined(separator: ", "))\n".utf8))
        exit(2)
    }
    return target
}()

/// libFuzzer's entry point (its archive refers to it even when the driver is called).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzTargets.run(fuzzTarget, UnsafeBufferPointer(start: data, count: size), scratch: FuzzTargets.scratch)
    return 0
}
#endif

@main
struct FableFuzz {
    static func main() {
        #if FUZZING
        _ = fuzzTarget
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) })
        #else
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTargets.named(name) else {
            print("usage: fable-fuzz TARGET FILE...   (targets: \(FuzzTargets.all.map(\.name).joined(separator: ", ")))")
            exit(2)
        }
        for path in arguments.dropFirst() {
            do {
                try target.parse(URL(fileURLWithPath: path))
                print("\(path): parsed")
            } catch {
                print("\(path): \(error)")
            }
        }
        #endif
    }
}
