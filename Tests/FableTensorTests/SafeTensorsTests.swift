import Foundation
import Testing
import FableTestSupport
@testable import FableTensor

/// The expected contents of a fixture written by Scripts/reference/safetensors_fixtures.py.
private struct FixtureSpec: Decodable {
    struct Tensor: Decodable {
        let dtype: String
        let shape: [Int]
        let floats: [Double]?
        let source_floats: [Double]?
        let integers: [Int64]?
    }
    let metadata: [String: String]
    let tensors: [String: Tensor]
}

private let dtypeByTorchName: [String: SafeTensors.DType] = [
    "float32": .f32, "float16": .f16, "bfloat16": .bf16, "float64": .f64, "int64": .i64,
    "int32": .i32, "uint8": .u8, "uint16": .u16, "bool": .bool,
]

private func temporaryURL(_ name: String) -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fable-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder.appendingPathComponent(name)
}

/// Writes raw bytes as a file and opens it, returning the error it raises.
private func openError(_ bytes: [UInt8], _ name: String) -> SafeTensorsError? {
    let url = temporaryURL(name)
    _ = FileManager.default.createFile(atPath: url.path, contents: Data(bytes))
    do {
        _ = try SafeTensorsFile(contentsOf: url)
        return nil
    } catch let error as SafeTensorsError {
        return error
    } catch {
        return nil
    }
}

/// A file made of a literal header and `dataSize` zero bytes.
private func file(header: String, dataSize: Int) -> [UInt8] {
    var bytes: [UInt8] = []
    withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
    bytes.append(contentsOf: Array(header.utf8))
    bytes.append(contentsOf: [UInt8](repeating: 0, count: dataSize))
    return bytes
}

@Suite("SafeTensors")
struct SafeTensorsTests {
    // MARK: - Interop with the reference library

    @Test("a file written by Python's save_file reads back with every dtype and the metadata")
    func readsPythonFile() throws {
        let spec = try TestData.jsonFixture("safetensors/python_mixed.json", as: FixtureSpec.self)
        let file = try SafeTensorsFile(contentsOf: TestData.fixture("safetensors/python_mixed.safetensors"))
        #expect(file.metadata == spec.metadata)
        #expect(Set(file.names) == Set(spec.tensors.keys))
        for (name, expected) in spec.tensors {
            let info = try file.info(named: name)
            #expect(info.shape == expected.shape, "\(name)")
            #expect(info.dtype == dtypeByTorchName[expected.dtype], "\(name)")
            if let floats = expected.floats {
                #expect(try file.floats(named: name) == floats.map { Float($0) }, "\(name)")
            } else if let integers = expected.integers {
                #expect(try file.integers(named: name) == integers, "\(name)")
                #expect(throws: SafeTensorsError.self) { try file.floats(named: name) }
            }
        }
    }

    @Test("Fable writes the same bytes as Python for the same tensors and metadata")
    func writesPythonBytes() throws {
        let spec = try TestData.jsonFixture("safetensors/python_exact.json", as: FixtureSpec.self)
        let pythonBytes = try [UInt8](Data(contentsOf: TestData.fixture("safetensors/python_exact.safetensors")))
        var writer = SafeTensorsWriter(metadata: spec.metadata)
        // Add in an order unlike the file's, so the writer's own ordering is what is tested.
        for name in spec.tensors.keys.sorted(by: >) {
            let tensor = spec.tensors[name]!
            let dtype = try #require(dtypeByTorchName[tensor.dtype])
            if let floats = tensor.source_floats {
                try writer.add(name, shape: tensor.shape, floats: floats.map { Float($0) }, as: dtype)
            } else {
                try writer.add(name, shape: tensor.shape, integers: tensor.integers!, as: dtype)
            }
        }
        let fableBytes = try writer.serialized()
        #expect(fableBytes == pythonBytes)
        // The same bytes reach disk; keep a copy for Scripts/reference/check_fable_safetensors.py.
        let url = temporaryURL("exact.safetensors")
        try writer.write(to: url)
        #expect(try [UInt8](Data(contentsOf: url)) == pythonBytes)
        if let keep = ProcessInfo.processInfo.environment["FABLE_KEEP_SAFETENSORS"] {
            try writer.write(to: URL(fileURLWithPath: keep))
        }
    }

    // MARK: - Round trips

    @Test("borrowed and copied Float32 tensors round-trip with metadata")
    func roundTrip() throws {
        var rng = RandomGenerator(seed: 7)
        let big = UnsafeMutableBufferPointer<Float>.allocate(capacity: 3 * 1000)
        defer { big.deallocate() }
        for i in big.indices { big[i] = Float(rng.nextNormal()) }
        let small: [Float] = [1, -2, .infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        var writer = SafeTensorsWriter(metadata: ["b": "2", "a": "x\"y\\z/é", "step": "10"])
        try writer.add("z.big", shape: [3, 1000], borrowing: UnsafeBufferPointer(big))
        try writer.add("a.small", shape: [2, 3], floats: small)
        try writer.add("empty", shape: [0, 4], floats: [])
        let url = temporaryURL("roundtrip.safetensors")
        try writer.write(to: url)
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(file.metadata == ["b": "2", "a": "x\"y\\z/é", "step": "10"])
        #expect(file.names == ["a.small", "empty", "z.big"])
        #expect(try file.floats(named: "z.big") == Array(big))
        #expect(try file.floats(named: "a.small").map(\.bitPattern) == small.map(\.bitPattern))
        #expect(try file.floats(named: "empty").isEmpty)
        let destination = UnsafeMutableBufferPointer<Float>.allocate(capacity: 6)
        defer { destination.deallocate() }
        try file.readFloats(named: "a.small", expectedShape: [2, 3], into: destination)
        #expect(Array(destination).map(\.bitPattern) == small.map(\.bitPattern))
        #expect(throws: SafeTensorsError.shapeMismatch(path: url.path, tensor: "a.small", expected: [3, 2], actual: [2, 3])) {
            try file.readFloats(named: "a.small", expectedShape: [3, 2], into: destination)
        }
        #expect(throws: SafeTensorsError.tensorNotFound(path: url.path, tensor: "missing")) {
            try file.floats(named: "missing")
        }
        // The header is padded to 8 bytes so the data section is aligned.
        #expect(file.dataStart % 8 == 0)
    }

    @Test("no metadata writes no __metadata__ entry; empty metadata writes {}")
    func metadataPresence() throws {
        var writer = SafeTensorsWriter()
        try writer.add("x", shape: [1], floats: [1])
        let bytes = try writer.serialized()
        #expect(!String(decoding: bytes, as: UTF8.self).contains("__metadata__"))
        writer.metadata = [:]
        #expect(String(decoding: try writer.serialized(), as: UTF8.self).contains("{\"__metadata__\":{},\"x\""))
    }

    @Test("the writer rejects duplicate names, the reserved name and size mismatches")
    func writerErrors() throws {
        var writer = SafeTensorsWriter()
        try writer.add("x", shape: [2], floats: [1, 2])
        #expect(throws: SafeTensorsError.self) { try writer.add("x", shape: [2], floats: [1, 2]) }
        #expect(throws: SafeTensorsError.self) { try writer.add("__metadata__", shape: [1], floats: [1]) }
        #expect(throws: SafeTensorsError.self) { try writer.add("y", shape: [3], floats: [1, 2]) }
        #expect(throws: SafeTensorsError.self) { try writer.add("y", shape: [1], integers: [300], as: .u8) }
        #expect(writer.count == 1)
        // A folder that does not exist: a clear error, nothing left behind.
        let missing = URL(fileURLWithPath: "/nonexistent-fable-folder/x.safetensors")
        #expect(throws: SafeTensorsError.self) { try writer.write(to: missing) }
    }

    @Test("an atomic write replaces the old file and leaves no temporary file")
    func atomicReplace() throws {
        let url = temporaryURL("replace.safetensors")
        var first = SafeTensorsWriter()
        try first.add("v", shape: [1], floats: [1])
        try first.write(to: url)
        var second = SafeTensorsWriter()
        try second.add("v", shape: [2], floats: [2, 3])
        try second.write(to: url)
        #expect(try SafeTensorsFile(contentsOf: url).floats(named: "v") == [2, 3])
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)
            .filter { $0.contains("replace.safetensors.tmp") }
        #expect(leftovers.isEmpty)
    }

    // MARK: - Validation

    @Test("truncated and malformed files give errors naming the file and tensor")
    func validation() throws {
        #expect(openError([1, 2, 3], "tiny.st").map { if case .truncatedHeader = $0 { true } else { false } } == true)
        var huge = file(header: "{}", dataSize: 0)
        huge.replaceSubrange(0..<8, with: [0xFF, 0xFF, 0, 0, 0, 0, 0, 0])
        #expect(openError(huge, "huge.st").map { if case .headerLengthOutOfRange = $0 { true } else { false } } == true)
        let badJSON = openError(file(header: "{\"a\":", dataSize: 0), "badjson.st")
        #expect(badJSON.map { if case .invalidHeader = $0 { true } else { false } } == true)
        #expect(badJSON?.description.contains("badjson.st") == true)

        let dtype = openError(file(header: #"{"w":{"dtype":"Q7","shape":[1],"data_offsets":[0,4]}}"#, dataSize: 4), "dtype.st")
        #expect(dtype == .unknownDType(path: temporaryURL("dtype.st").path, tensor: "w", dtype: "Q7"))

        let count = openError(file(header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, dataSize: 4), "count.st")
        #expect(count == .byteCountMismatch(path: temporaryURL("count.st").path, tensor: "w", expected: 8, actual: 4))
        #expect(count?.description.contains("'w'") == true)

        let overlap = openError(file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, dataSize: 8), "overlap.st")
        #expect(overlap == .offsetsOutOfOrder(path: temporaryURL("overlap.st").path, tensor: "b", expectedBegin: 8, actualBegin: 4))

        let gap = openError(file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, dataSize: 8), "gap.st")
        #expect(gap == .offsetsOutOfOrder(path: temporaryURL("gap.st").path, tensor: "a", expectedBegin: 0, actualBegin: 4))

        let truncated = openError(file(header: #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, dataSize: 12), "trunc.st")
        #expect(truncated == .dataSizeMismatch(path: temporaryURL("trunc.st").path, expected: 16, actual: 12))
        let trailing = openError(file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, dataSize: 5), "trailing.st")
        #expect(trailing == .dataSizeMismatch(path: temporaryURL("trailing.st").path, expected: 4, actual: 5))

        let negative = openError(file(header: #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, dataSize: 4), "neg.st")
        #expect(negative.map { if case .invalidTensorEntry(_, "a", _) = $0 { true } else { false } } == true)
        let fraction = openError(file(header: #"{"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}"#, dataSize: 4), "frac.st")
        #expect(fraction.map { if case .invalidTensorEntry(_, "a", _) = $0 { true } else { false } } == true)
        let duplicate = openError(file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, dataSize: 4), "dup.st")
        #expect(duplicate.map { if case .invalidHeader = $0 { true } else { false } } == true)
        let metadata = openError(file(header: #"{"__metadata__":{"k":1}}"#, dataSize: 0), "meta.st")
        #expect(metadata.map { if case .invalidHeader = $0 { true } else { false } } == true)

        // Every prefix of a valid file is rejected, never read past its end.
        let valid = try [UInt8](Data(contentsOf: TestData.fixture("safetensors/python_mixed.safetensors")))
        for cut in stride(from: 0, to: valid.count, by: 37) {
            #expect(openError(Array(valid[0..<cut]), "prefix.st") != nil, "prefix of \(cut) bytes")
        }
    }

    @Test("a missing file is a clear error")
    func missingFile() {
        #expect(throws: SafeTensorsError.self) {
            try SafeTensorsFile(contentsOf: URL(fileURLWithPath: "/nonexistent/model.safetensors"))
        }
    }
}

@Suite("Half precision")
struct HalfPrecisionTests {
    @Test("every finite F16 value converts to Float32 and back unchanged")
    func f16RoundTrip() {
        for bits in 0...UInt16.max {
            let value = HalfPrecision.float(fromFloat16Bits: bits)
            if value.isNaN { #expect(HalfPrecision.float16Bits(from: value) & 0x7C00 == 0x7C00); continue }
            #expect(HalfPrecision.float16Bits(from: value) == bits)
        }
    }

    @Test("F16 rounding: ties to even, overflow to infinity, underflow to zero")
    func f16Rounding() {
        #expect(HalfPrecision.float16Bits(from: 1.0) == 0x3C00)
        #expect(HalfPrecision.float16Bits(from: 1 + 0x1p-11) == 0x3C00)  // tie, even stays
        #expect(HalfPrecision.float16Bits(from: 1 + 0x1p-10 + 0x1p-11) == 0x3C02)  // tie, odd rounds up
        #expect(HalfPrecision.float16Bits(from: 65519) == 0x7BFF)
        #expect(HalfPrecision.float16Bits(from: 65520) == 0x7C00)
        #expect(HalfPrecision.float16Bits(from: -.infinity) == 0xFC00)
        #expect(HalfPrecision.float16Bits(from: 0x1p-25) == 0)  // tie with zero: even
        #expect(HalfPrecision.float16Bits(from: 0x1.8p-25) == 1)
        #expect(HalfPrecision.float16Bits(from: 0x1p-30) == 0)
        #expect(HalfPrecision.float(fromFloat16Bits: 0x0001) == 0x1p-24)
        #expect(HalfPrecision.float(fromFloat16Bits: 0xFC00) == -.infinity)
        #expect(HalfPrecision.float(fromFloat16Bits: 0x7E00).isNaN)
    }

    @Test("BF16 rounding: ties to even, NaN stays NaN, every BF16 value round-trips")
    func bf16() {
        #expect(HalfPrecision.bfloat16Bits(from: 1.0) == 0x3F80)
        #expect(HalfPrecision.bfloat16Bits(from: Float(bitPattern: 0x3F80_8000)) == 0x3F80)  // tie, even
        #expect(HalfPrecision.bfloat16Bits(from: Float(bitPattern: 0x3F81_8000)) == 0x3F82)  // tie, odd
        #expect(HalfPrecision.float(fromBFloat16Bits: HalfPrecision.bfloat16Bits(from: .nan)).isNaN)
        for bits in 0...UInt16.max {
            let value = HalfPrecision.float(fromBFloat16Bits: bits)
            if !value.isNaN { #expect(HalfPrecision.bfloat16Bits(from: value) == bits) }
        }
    }
}
