import FableTensor

/// Which rank owns which parameters when optimizer state is sharded (ZeRO stage 1): the
/// store's entries, in order, cut into one contiguous run of whole parameters per rank
/// with about the same number of elements each. Whole parameters keep a matrix on one
/// rank (Muon orthogonalises whole matrices); contiguous runs make the gradient
/// reduce-scatter and the parameter all-gather one call each.
public struct ParameterShards: Equatable, Sendable {
    /// The flat-buffer range each rank owns, in rank order; together they tile the buffer.
    public let ranges: [Range<Int>]
    /// The entries each rank owns.
    public let entries: [[ParameterStore.Entry]]

    /// Cuts `store` into `ranks` shards: rank r's shard ends at the first entry boundary at
    /// or past (r + 1) / ranks of the elements, so it takes the entry that crosses that point.
    public init(store: ParameterStore, ranks: Int) {
        precondition(ranks >= 1, "ranks must be positive")
        var ranges: [Range<Int>] = []
        var owned: [[ParameterStore.Entry]] = []
        var index = 0
        let all = store.entries
        var start = 0
        for rank in 0..<ranks {
            let target = (store.count * (rank + 1) + ranks - 1) / ranks
            var mine: [ParameterStore.Entry] = []
            var end = start
            while index < all.count, rank == ranks - 1 || end < target {
                mine.append(all[index])
                end = all[index].range.upperBound
                index += 1
            }
            ranges.append(start..<end)
            owned.append(mine)
            start = end
        }
        self.ranges = ranges
        entries = owned
    }
}
