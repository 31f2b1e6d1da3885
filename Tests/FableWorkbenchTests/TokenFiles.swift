import FableFormats
import FableTraining
import Foundation

/// A path in this process's scratch folder for workbench tests.
func temporaryFile(_ name: String) -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fable-workbench-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder.appendingPathComponent(name)
}

/// Writes `tokens` as a uint16 .npy file with Fable's header encoder.
func writeNpy(_ tokens: [UInt16], _ name: String) throws -> URL {
    let url = temporaryFile(name)
    var bytes = NPYHeader.encode(descr: "<u2", shape: [tokens.count])
    tokens.withUnsafeBytes { bytes.append(contentsOf: $0) }
    try Data(bytes).write(to: url)
    return url
}
