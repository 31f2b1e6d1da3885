import Foundation

/// The collectives: every rank calls each one, in the same order, with buffers of the same size.
extension Communicator {
    /// Waits until every rank has reached this call.
    public func barrier() throws(DistributedError) {
        try call("MPI_Barrier") { $0.barrier() }
    }

    /// Replaces `buffer` on every rank with the element-wise sum over all ranks.
    public func allreduce(_ buffer: UnsafeMutableBufferPointer<Float>) throws(DistributedError) {
        guard isDistributed, let base = buffer.baseAddress else { return }
        try forEachPiece(buffer.count) { (start, count) throws(DistributedError) in
            try call("MPI_Allreduce") { $0.allreduce(nil, base + start, Int32(count), .float, .sum) }
        }
    }

    /// The element-wise reduction of `values` over all ranks (float64; sums of losses, counts).
    public func allreduce(_ values: [Double], _ reduction: MPIReduction = .sum) throws(DistributedError) -> [Double] {
        guard isDistributed, !values.isEmpty else { return values }
        var result = values
        try result.withUnsafeMutableBufferPointer { (buffer) throws(DistributedError) in
            try call("MPI_Allreduce") { $0.allreduce(nil, buffer.baseAddress!, Int32(buffer.count), .double, reduction) }
            return
        }
        return result
    }

    /// Sums `buffer` over all ranks and leaves rank r's block of the sum, elements
    /// r·n ..< (r+1)·n with n = buffer.count / size, in `shard` (n elements).
    /// - Throws: ``DistributedError/invalidBuffer(call:reason:)`` when the sizes do not fit.
    public func reduceScatter(
        _ buffer: UnsafeBufferPointer<Float>, into shard: UnsafeMutableBufferPointer<Float>
    ) throws(DistributedError) {
        guard buffer.count == shard.count * size else {
            throw .invalidBuffer(call: "reduce-scatter", reason: "a buffer of \(buffer.count) elements does not split into "
                + "\(size) blocks of \(shard.count)")
        }
        guard shard.count > 0, let source = buffer.baseAddress, let target = shard.baseAddress else { return }
        guard isDistributed else {
            target.update(from: source, count: shard.count)
            return
        }
        guard shard.count <= Self.maxCount else {
            throw .invalidBuffer(call: "reduce-scatter", reason: "\(shard.count) elements per rank exceed MPI's int count")
        }
        try call("MPI_Reduce_scatter_block") { $0.reduceScatterBlock(UnsafeRawPointer(source), target, Int32(shard.count), .float, .sum) }
    }

    /// Gathers every rank's block into `buffer` on every rank: rank r's block is elements
    /// r·n ..< (r+1)·n of `buffer` (n = buffer.count / size), which this rank fills before the
    /// call (in place).
    public func allGather(inPlace buffer: UnsafeMutableBufferPointer<Float>) throws(DistributedError) {
        guard isDistributed else { return }
        guard buffer.count % size == 0 else {
            throw .invalidBuffer(call: "all-gather", reason: "a buffer of \(buffer.count) elements does not split into \(size) equal blocks")
        }
        let block = buffer.count / size
        guard block > 0, let base = buffer.baseAddress else { return }
        guard block <= Self.maxCount else {
            throw .invalidBuffer(call: "all-gather", reason: "\(block) elements per rank exceed MPI's int count")
        }
        try call("MPI_Allgather") { $0.allgather(nil, 0, base, Int32(block), .float) }
    }

    /// Sums `buffer` over all ranks and leaves the sum's `ranges[rank]` in the same place of
    /// this rank's `buffer` (the rest of `buffer` is then undefined). `ranges` tile the
    /// buffer in rank order.
    public func reduceScatter(inPlace buffer: UnsafeMutableBufferPointer<Float>, ranges: [Range<Int>]) throws(DistributedError) {
        guard isDistributed, let base = buffer.baseAddress else { return }
        let counts = try blockCounts(ranges, total: buffer.count, call: "reduce-scatter")
        try counts.withUnsafeBufferPointer { (counts) throws(DistributedError) in
            try call("MPI_Reduce_scatter") { $0.reduceScatterInPlace(base, counts.baseAddress!, .float, .sum) }
            return
        }
        // MPI leaves this rank's block at the start of the buffer; move it home.
        let own = ranges[rank]
        if own.lowerBound > 0, !own.isEmpty {
            memmove(base + own.lowerBound, base, own.count * MemoryLayout<Float>.size)
        }
    }

    /// Gives every rank every other rank's `ranges[r]` of `buffer` (rank r's values are
    /// the ones in its own buffer at `ranges[r]`). `ranges` tile the buffer in rank order.
    public func allGather(inPlace buffer: UnsafeMutableBufferPointer<Float>, ranges: [Range<Int>]) throws(DistributedError) {
        guard isDistributed, let base = buffer.baseAddress else { return }
        let counts = try blockCounts(ranges, total: buffer.count, call: "all-gather")
        let displacements = ranges.map { Int32($0.lowerBound) }
        try counts.withUnsafeBufferPointer { (counts) throws(DistributedError) in
            try displacements.withUnsafeBufferPointer { (displacements) throws(DistributedError) in
                try call("MPI_Allgatherv") { $0.allgathervInPlace(base, counts.baseAddress!, displacements.baseAddress!, .float) }
                return
            }
        }
    }

    private func blockCounts(_ ranges: [Range<Int>], total: Int, call: String) throws(DistributedError) -> [Int32] {
        guard ranges.count == size, ranges.first?.lowerBound == 0, ranges.last?.upperBound == total,
              zip(ranges, ranges.dropFirst()).allSatisfy({ $0.upperBound == $1.lowerBound }) else {
            throw .invalidBuffer(call: call, reason: "the \(ranges.count) ranges do not tile \(total) elements in rank order")
        }
        guard total <= Int(Int32.max) else {
            throw .invalidBuffer(call: call, reason: "\(total) elements exceed MPI's int displacements")
        }
        return ranges.map { Int32($0.count) }
    }

    /// Copies `buffer` from rank `root` to every other rank.
    public func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int = 0) throws(DistributedError) {
        guard isDistributed, let base = buffer.baseAddress else { return }
        try forEachPiece(buffer.count) { (start, count) throws(DistributedError) in
            try call("MPI_Bcast") { $0.broadcast(base + start, Int32(count), .float, Int32(root)) }
        }
    }

    /// Rank `root`'s `values` on every rank (float64).
    public func broadcast(_ values: [Double], root: Int = 0) throws(DistributedError) -> [Double] {
        guard isDistributed, !values.isEmpty else { return values }
        var result = values
        try result.withUnsafeMutableBufferPointer { (buffer) throws(DistributedError) in
            try call("MPI_Bcast") { $0.broadcast(buffer.baseAddress!, Int32(buffer.count), .double, Int32(root)) }
            return
        }
        return result
    }

    /// Starts summing `buffer` over all ranks in place and returns at once; the sum is in
    /// `buffer` after ``Request/wait()``. The buffer must stay untouched until then.
    /// - Throws: ``DistributedError/invalidBuffer(call:reason:)`` above 2^30 elements.
    public func startAllreduce(_ buffer: UnsafeMutableBufferPointer<Float>) throws(DistributedError) -> Request {
        let request = Request(communicator: self)
        guard isDistributed, let base = buffer.baseAddress, buffer.count > 0 else {
            request.isComplete = true
            return request
        }
        guard buffer.count <= Self.maxCount else {
            throw .invalidBuffer(call: "MPI_Iallreduce", reason: "\(buffer.count) elements exceed MPI's int count")
        }
        try call("MPI_Iallreduce", timed: false) { $0.iallreduce(nil, base, Int32(buffer.count), .float, .sum, request.slot) }
        return request
    }

    /// Calls `body(start, count)` for pieces of at most ``maxCount`` elements.
    private func forEachPiece(
        _ count: Int, _ body: (Int, Int) throws(DistributedError) -> Void
    ) throws(DistributedError) {
        var start = 0
        while start < count {
            let piece = Swift.min(Self.maxCount, count - start)
            try body(start, piece)
            start += piece
        }
    }

    // MARK: - Requests

    /// A nonblocking collective in flight.
    public final class Request: @unchecked Sendable {
        let communicator: Communicator
        /// The library's `MPI_Request` (8 bytes: a pointer in Open MPI, an int in MPICH).
        let slot: UnsafeMutableRawPointer
        /// True once ``wait()`` or ``test()`` saw it finish.
        public internal(set) var isComplete = false

        init(communicator: Communicator, completed: Bool = false) {
            self.communicator = communicator
            slot = .allocate(byteCount: 8, alignment: 8)
            slot.storeBytes(of: 0, as: UInt64.self)
            isComplete = completed
        }

        deinit {
            precondition(isComplete || !communicator.isDistributed || communicator.finishedOrAborted,
                         "a collective request was dropped before it finished; call wait()")
            slot.deallocate()
        }

        /// Blocks until the operation is done (time counted in ``Communicator/waitSeconds``).
        public func wait() throws(DistributedError) {
            guard !isComplete else { return }
            try communicator.call("MPI_Wait") { $0.wait(slot) }
            isComplete = true
        }

        /// Lets MPI make progress and says whether the operation is done, without blocking.
        /// Open MPI advances nonblocking collectives only inside MPI calls, so a caller
        /// overlapping work polls this now and then.
        @discardableResult
        public func test() throws(DistributedError) -> Bool {
            guard !isComplete else { return true }
            var done = false
            try communicator.call("MPI_Test", timed: false) { f in
                let (code, finished) = f.test(slot)
                done = finished
                return code
            }
            isComplete = done
            return done
        }
    }

    var finishedOrAborted: Bool { library?.functions.finalized() ?? true }
}
