// Fable's RoPE (CS336, and llama.cpp's "normal" RoPE) rotates the pairs (2k, 2k+1) of each
// head. Hugging Face's Llama rotates (k, k + d/2) instead ("rotate half"). Both compute the
// same attention when the rows of the query and key projections are reordered per head:
// the HF row p·(d/2) + k holds the Fable row 2k + p. The same reordering is what HF's
// `convert_llama_weights_to_hf.py` applies to Meta's checkpoints.

/// Reorders query/key projection rows between RoPE's interleaved pairs (Fable, llama.cpp)
/// and Hugging Face's rotate-half layout. Rows are `numHeads` blocks of `headDim` rows of
/// `columns` floats each; the two functions are inverses of each other.
public enum RotaryLayout {
    /// The source row, within one head of width `headDim`, of rotate-half row `row`.
    @inline(__always)
    public static func interleavedRow(forHalvesRow row: Int, headDim: Int) -> Int {
        let half = headDim / 2
        return row < half ? 2 * row : 2 * (row - half) + 1
    }

    /// Rows in Fable's interleaved layout -> rows in HF's rotate-half layout.
    public static func interleavedToHalves(_ weights: UnsafeBufferPointer<Float>, numHeads: Int, headDim: Int) -> [Float] {
        permuteRows(weights, numHeads: numHeads, headDim: headDim, toHalves: true)
    }

    /// Rows in HF's rotate-half layout -> rows in Fable's interleaved layout.
    public static func halvesToInterleaved(_ weights: UnsafeBufferPointer<Float>, numHeads: Int, headDim: Int) -> [Float] {
        permuteRows(weights, numHeads: numHeads, headDim: headDim, toHalves: false)
    }

    private static func permuteRows(
        _ weights: UnsafeBufferPointer<Float>, numHeads: Int, headDim: Int, toHalves: Bool
    ) -> [Float] {
        let rows = numHeads * headDim
        precondition(headDim % 2 == 0 && rows > 0 && weights.count % rows == 0, "RoPE rows must form whole heads of even width")
        let columns = weights.count / rows
        var out = [Float](repeating: 0, count: weights.count)
        out.withUnsafeMutableBufferPointer { destination in
            for head in 0..<numHeads {
                for row in 0..<headDim {
                    let interleaved = head * headDim + interleavedRow(forHalvesRow: row, headDim: headDim)
                    let halves = head * headDim + row
                    let (from, to) = toHalves ? (interleaved, halves) : (halves, interleaved)
                    for column in 0..<columns {
                        destination[to * columns + column] = weights[from * columns + column]
                    }
                }
            }
        }
        return out
    }
}
