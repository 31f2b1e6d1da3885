import FableFormats
import FableTestSupport
import Foundation
import Testing

private struct HeaderCases: Decodable {
    struct Case: Decodable {
        let name: String
        let hex: String
        let descr: String
        let fortran_order: Bool
        let shape: [Int]
        let data_offset: Int
        let major: Int
    }
    let cases: [Case]
}

private struct DatasetHeaders: Decodable {
    struct Header: Decodable { let descr: String; let count: Int; let hex: String }
    let headers: [Header]
}

private func parse(_ text: String, version: UInt8 = 1) throws(NPYFormatError) -> NPYHeader {
    var body = Array(text.utf8)
    body += [UInt8](repeating: 0x20, count: 63 - (10 + body.count) % 64) + [0x0A]
    let bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0, UInt8(body.count & 0xFF), UInt8(body.count >> 8)] + body
    return try NPYHeader.parse(bytes, path: "t.npy")
}

@Suite(".npy headers against numpy")
struct NPYHeaderTests {
    @Test("headers numpy writes (shapes, dtypes, orders, versions 1.0/2.0/3.0) parse as numpy reads them")
    func parsesNumpyHeaders() throws {
        let cases = try TestData.jsonFixture("formats/npy_headers.json", as: HeaderCases.self).cases
        #expect(cases.count >= 10)
        for entry in cases {
            let header = try NPYHeader.parse(hexBytes(entry.hex), path: entry.name)
            #expect(header == NPYHeader(descr: entry.descr, fortranOrder: entry.fortran_order, shape: entry.shape,
                                        majorVersion: entry.major, dataOffset: entry.data_offset), "\(entry.name)")
            #expect(header.dataOffset % 64 == 0)
            if entry.major == 1 {
                #expect(NPYHeader.encode(descr: entry.descr, fortranOrder: entry.fortran_order, shape: entry.shape)
                    == hexBytes(entry.hex), "\(entry.name)")
            }
        }
    }

    @Test("the encoder writes np.save's bytes for 1-D token arrays of any length")
    func encodesDatasetHeaders() throws {
        for header in try TestData.jsonFixture("datasets/headers.json", as: DatasetHeaders.self).headers {
            let bytes = hexBytes(header.hex)
            #expect(NPYHeader.encode(descr: header.descr, shape: [header.count]) == bytes, "\(header.count)")
            #expect(try NPYHeader.parse(bytes, path: "x.npy")
                == NPYHeader(descr: header.descr, shape: [header.count], majorVersion: 1, dataOffset: bytes.count))
            #expect(bytes.count == 128)  // same length for every count: the writer patches it in place
        }
    }

    @Test("the dict is parsed, not searched: quotes, spacing, key order and strings holding keys")
    func literalParsing() throws {
        let reordered = try parse(#"{"shape": (2, 3L), "fortran_order": True, "descr": "<f4"}"#)
        #expect(reordered == NPYHeader(descr: "<f4", fortranOrder: true, shape: [2, 3], dataOffset: 128))
        #expect(try parse("{'descr':'|u1','fortran_order':False,'shape':()}").shape == [])
        let trap = #expect(throws: NPYFormatError.self) {
            try parse("{'descr': '<u2', 'fortran_order': False, 'shape': (3,), 'note': \"'shape': (9,)\"}")
        }
        #expect(trap?.expected.contains("only the keys") == true)
    }

    @Test("malformed headers are typed errors naming the file and byte offset", arguments: [
        ("{'descr': '<u2', 'fortran_order': False}", "'shape' key", 10),
        ("{'descr': '<u2', 'descr': '<u2', 'fortran_order': False, 'shape': (1,)}", "no duplicate key 'descr'", 27),
        ("{'descr': '<u2', 'fortran_order': false, 'shape': (1,)}", "a string, True, False or a tuple", 44),
        ("{'descr': '<u2', 'fortran_order': False, 'shape': (5)}", "a one-element tuple", 61),
        ("{'descr': '<u2', 'fortran_order': False, 'shape': (-1,)}", "non-negative integer", 61),
        ("{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (1,)}", "a string, True, False or a tuple", 20),
        ("{'descr': '<u2', 'fortran_order': False, 'shape': (1,)} x", "only padding", 66),
    ])
    func rejects(_ text: String, _ expected: String, _ offset: Int) {
        let error = #expect(throws: NPYFormatError.self) { try parse(text) }
        #expect(error?.path == "t.npy")
        #expect(error?.expected.contains(expected) == true, "\(error.map(String.init(describing:)) ?? "")")
        #expect(error?.offset == offset, "\(error.map(String.init(describing:)) ?? "")")
    }

    @Test("absurd shapes are rejected before anyone multiplies them")
    func shapeOverflow() {
        let huge = #expect(throws: NPYFormatError.self) {
            try parse("{'descr': '<u2', 'fortran_order': False, 'shape': (4294967296, 4294967296), }")
        }
        #expect(huge?.expected.contains("fits in 64 bits") == true)
        #expect(huge?.offset == 60)
        #expect(throws: NPYFormatError.self) {
            try parse("{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952,), }")
        }
        #expect(throws: NPYFormatError.self) {
            try parse("{'descr': '<u2', 'fortran_order': False, 'shape': (99999999999999999999,), }")
        }
    }

    @Test("magic, version and length are checked")
    func preamble() throws {
        let notNumpy = #expect(throws: NPYFormatError.self) { try NPYHeader.parse(Array("not numpy at all".utf8), path: "f.npy") }
        #expect(notNumpy?.offset == 0)
        #expect(notNumpy?.description.hasPrefix("f.npy: at byte 0: expected the NumPy magic") == true)
        var good = NPYHeader.encode(descr: "<u2", shape: [3])
        good[6] = 4
        let version = #expect(throws: NPYFormatError.self) { try NPYHeader.parse(good, path: "v.npy") }
        #expect(version?.offset == 6)
        let short = NPYHeader.encode(descr: "<u2", shape: [3]).prefix(40)
        #expect(throws: NPYFormatError.self) { try NPYHeader.parse(Array(short), path: "s.npy") }
        #expect(NPYHeader.itemSize(of: "<u2") == 2 && NPYHeader.itemSize(of: "|b1") == 1 && NPYHeader.itemSize(of: "<U5") == nil)
    }
}
