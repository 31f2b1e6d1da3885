import Testing
@testable import FableTensor

// The packing copies against the layouts their doc comments define, element by element, so
// a wrong offset shows here by position before it shows as a wrong product.

@Suite("GEMM packing layouts")
struct GEMMPackingTests {
    /// op(M) of `rows` x `columns`: M is stored row-major (as op(M) or, when `transposed`, as
    /// its transpose) with a row stride 3 past its width, every value distinct.
    static func operand(rows: Int, columns: Int, transposed: Bool) -> (values: [Float], ld: Int, op: (Int, Int) -> Float) {
        let ld = (transposed ? rows : columns) + 3
        let values = (0..<((transposed ? columns : rows) * ld)).map { Float($0 % 1_000_003) + 0.5 }
        return (values, ld, { i, j in transposed ? values[j * ld + i] : values[i * ld + j] })
    }

    /// Runs `pack(source, destination)` into `count` NaN-filled floats, then returns the first
    /// (tile, step, lane) whose value (each repeated `width` times; tiles of `depth` steps of
    /// `lanes` values) differs from `expected`, or nil.
    static func firstWrong(
        source: [Float], count: Int, tiles: Int, depth: Int, lanes: Int, width: Int = 1,
        pack: (UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void,
        expected: (_ tile: Int, _ step: Int, _ lane: Int) -> Float
    ) -> (tile: Int, step: Int, lane: Int)? {
        var packed = [Float](repeating: .nan, count: count)
        source.withUnsafeBufferPointer { s in
            packed.withUnsafeMutableBufferPointer { out in pack(s.baseAddress!, out.baseAddress!) }
        }
        for tile in 0..<tiles {
            for step in 0..<depth {
                for lane in 0..<lanes {
                    let value = expected(tile, step, lane)
                    for copy in 0..<width where packed[((tile * depth + step) * lanes + lane) * width + copy] != value {
                        return (tile, step, lane)
                    }
                }
            }
        }
        return nil
    }

    @Test("packA: panel q, step p, row r holds op(A)[row0 + q*mr + r][p0 + p] (0 past the rows), repeated broadcastWidth times",
          arguments: [(12, 1), (6, 1), (6, 4)], [false, true])
    func packA(_ tile: (mr: Int, width: Int), _ transposed: Bool) {
        let (mr, width) = tile
        let (row0, rows, p0, depth) = (3, 29, 7, 517)
        let stored = Self.operand(rows: 41, columns: 530, transposed: transposed), op = stored.op
        let panels = (rows + mr - 1) / mr
        let wrong = Self.firstWrong(
            source: stored.values, count: panels * depth * mr * width, tiles: panels, depth: depth, lanes: mr, width: width,
            pack: { a, out in
                SIMDGEMM.packA(a, lda: stored.ld, transposed: transposed, tileRows: mr, broadcastWidth: width,
                               row0: row0, rows: rows, p0: p0, depth: depth, into: out)
            },
            expected: { q, p, r in q * mr + r < rows ? op(row0 + q * mr + r, p0 + p) : 0 })
        #expect(wrong == nil, "mr \(mr) width \(width) transposed \(transposed): first wrong (panel, step, row) \(String(describing: wrong))")
    }

    @Test("packB: sliver s, step p, column j holds op(B)[p0 + p][col0 + s*nr + j] (0 past the columns)",
          arguments: [32, 16, 8], [false, true])
    func packB(_ nr: Int, _ transposed: Bool) {
        let (p0, depth, col0, columns) = (9, 515, 5, 70)
        let stored = Self.operand(rows: 530, columns: 77, transposed: transposed), op = stored.op
        let slivers = (columns + nr - 1) / nr
        let wrong = Self.firstWrong(
            source: stored.values, count: slivers * depth * nr, tiles: slivers, depth: depth, lanes: nr,
            pack: { b, out in
                SIMDGEMM.packB(b, ldb: stored.ld, transposed: transposed, tileColumns: nr,
                               p0: p0, depth: depth, col0: col0, columns: columns, into: out)
            },
            expected: { s, p, j in s * nr + j < columns ? op(p0 + p, col0 + s * nr + j) : 0 })
        #expect(wrong == nil, "nr \(nr) transposed \(transposed): first wrong (sliver, step, column) \(String(describing: wrong))")
    }
}
