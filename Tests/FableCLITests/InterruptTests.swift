import FableTestSupport
import Foundation
import Testing
@testable import FableCLI
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite("tokenizer encode: Ctrl-C")
struct InterruptTests {
    @Test("Ctrl-C removes this process's partial output through InterruptSignal and exits")
    func removesPartialOutput() throws {
        let folder = TemporaryFolder("fable-cli-interrupt")
        let output = folder.url.appendingPathComponent("tokens.npy")
        // A temporary file as TokenArrayWriter names it, another process's, and an unrelated one.
        let mine = try folder.write("partial", to: ".tokens.npy.tmp-\(getpid())-12345")
        let theirs = try folder.write("partial", to: ".tokens.npy.tmp-\(getpid() + 1)-12345")
        let other = try folder.write("keep", to: "notes.txt")
        let exited = DispatchSemaphore(value: 0)
        // A second signal must not end the test process (other suites may send one meanwhile).
        let interrupt = TokenizerEncode.removePartialOutputOnInterrupt(
            output, secondSignalTerminates: false, exit: { exited.signal() })
        defer { interrupt.cancel() }
        #expect(!interrupt.isRaised)
        kill(getpid(), SIGINT)  // would end the test process without the handler
        #expect(exited.wait(timeout: .now() + 10) == .success)
        #expect(interrupt.isRaised)
        #expect(!FileManager.default.fileExists(atPath: mine.path))
        #expect(FileManager.default.fileExists(atPath: theirs.path))
        #expect(FileManager.default.fileExists(atPath: other.path))
    }
}
