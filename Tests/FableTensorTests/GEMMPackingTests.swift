import Testing
@testable import FableTensor

// The packing copies against the layouts their doc comments define, element by element, so
// a wrong offset shows here by position before it shows as a wrong product.

@Suite("GEMM packing layouts")
struct GEMMPackingTests {
    /// A row-major matrix of `rows` x `columns` with row stride `columns + 3`, every value distinct.
    static func matrix(rows: Int, columns: Int) -> (values: [Float], ld: Int) {
        let ld = columns + 3
        return ((0..<(rows * ld)).map { Float($0 % 1_000_003) + 0.5 }, ld)
    }

    @Test("packA: panel q, step p, row r holds op(A)[row0 + q*mr + r][p0 + p] (0 past the rows), repeated broadcastWidth times",
          arguments: [(12, 1), (6, 1), (6, 4)], [false, true])
    func packA(_ tile: (mr: Int, width: Int), _ transposed: Bool) {
        let (mr, width) = tile
        let (opRows, opColumns) = (41, 530)
        let (row0, rows, p0, depth) = (3, 29, 7, 517)
        let stored = transposed ? Self.matrix(rows: opColumns, columns: opRows) : Self.matrix(rows: opRows, columns: opColumns)
        func op(_ i: Int, _ p: Int) -> Float { transposed ? stored.values[p * stored.ld + i] : stored.values[i * stored.ld + p] }
        let panels = (rows + mr - 1) / mr
        var packed = [Float](repeating: .nan, count: panels * depth * mr * width)
        stored.values.withUnsafeBufferPointer { a in
            packed.withUnsafeMutableBufferPointer { out in
                SIMDGEMM.packA(a.baseAddress!, lda: stored.ld, transposed: transposed, tileRows: mr, broadcastWidth: width,
                               row0: row0, rows: rows, p0: p0, depth: depth, into: out.baseAddress!)
            }
        }
        var firstWrong: (panel: Int, step: Int, row: Int)?
        search: for q in 0..<panels {
            for p in 0..<depth {
                for r in 0..<mr {
                    let i = q * mr + r
                    let expected = i < rows ? op(row0 + i, p0 + p) : 0
                    for copy in 0..<width where packed[((q * depth + p) * mr + r) * width + copy] != expected {
                        firstWrong = (q, p, r)
                        break search
                    }
                }
            }
        }
        #expect(firstWrong == nil, "mr \(mr) width \(width) transposed \(transposed): first wrong value at \(String(describing: firstWrong))")
    }

    @Test("packB: sliver s, step p, column j holds op(B)[p0 + p][col0 + s*nr + j] (0 past the columns)",
          arguments: [32, 16, 8], [false, true])
    func packB(_ nr: Int, _ transposed: Bool) {
        let (opRows, opColumns) = (530, 77)
        let (p0, depth, col0, columns) = (9, 515, 5, 70)
        let stored = transposed ? Self.matrix(rows: opColumns, columns: opRows) : Self.matrix(rows: opRows, columns: opColumns)
        func op(_ p: Int, _ j: Int) -> Float { transposed ? stored.values[j * stored.ld + p] : stored.values[p * stored.ld + j] }
        let slivers = (columns + nr - 1) / nr
        var packed = [Float](repeating: .nan, count: slivers * depth * nr)
        stored.values.withUnsafeBufferPointer { b in
            packed.withUnsafeMutableBufferPointer { out in
                SIMDGEMM.packB(b.baseAddress!, ldb: stored.ld, transposed: transposed, tileColumns: nr,
                               p0: p0, depth: depth, col0: col0, columns: columns, into: out.baseAddress!)
            }
        }
        var firstWrong: (sliver: Int, step: Int, column: Int)?
        search: for s in 0..<slivers {
            for p in 0..<depth {
                for j in 0..<nr {
                    let column = s * nr + j
                    let expected = column < columns ? op(p0 + p, col0 + column) : 0
                    if packed[(s * depth + p) * nr + j] != expected {
                        firstWrong = (s, p, j)
                        break search
                    }
                }
            }
        }
        #expect(firstWrong == nil, "nr \(nr) transposed \(transposed): first wrong value at \(String(describing: firstWrong))")
    }
}
