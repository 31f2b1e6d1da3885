import FableTensor

/// Sums a ``ParameterStore``'s flat gradient buffer over every rank, in buckets started
/// while the backward pass is still producing earlier layers' gradients (the overlapped,
/// bucketed all-reduce of PyTorch's DistributedDataParallel and CS336 assignment 2).
///
/// Buckets are contiguous stretches of whole parameters of about `bucketBytes`, formed
/// from the end of the buffer, because backward finishes the last parameters (LM head,
/// last layers) first. Pass ``observe(_:)`` to `Tensor.backward(observer:)`: once every
/// parameter of a bucket is final its `MPI_Iallreduce` starts; buckets start strictly in
/// order (0, 1, 2, ...) so every rank issues the same collectives in the same order, and
/// requests in flight are polled after each backward step so Open MPI advances them.
/// ``finish()`` starts any bucket not yet started and waits for all.
///
/// Without overlap (``overlap`` false) nothing starts during backward and ``finish()``
/// reduces the buckets one after another: the same sums, for measuring what overlap gains.
public final class GradientBuckets {
    public let store: ParameterStore
    public let communicator: Communicator
    /// Start reductions during backward.
    public var overlap: Bool
    /// Each bucket's range of the flat buffer; bucket 0 holds the last parameters.
    public let ranges: [Range<Int>]
    private let bucketOfOffset: [Int: Int]
    private let entriesPerBucket: [Int]
    private var pending: [Int] = []
    private var requests: [Communicator.Request] = []
    private var firstError: DistributedError?
    private var pollCountdown = 0

    /// - Parameters:
    ///   - bucketBytes: the target size of a bucket (a parameter larger than this is a bucket of its own).
    public init(store: ParameterStore, communicator: Communicator, bucketBytes: Int = 8 << 20, overlap: Bool = true) {
        self.store = store
        self.communicator = communicator
        self.overlap = overlap
        let bucketElements = max(1, bucketBytes / MemoryLayout<Float>.size)
        var ranges: [Range<Int>] = []
        var counts: [Int] = []
        var byOffset: [Int: Int] = [:]
        var upper: Int?
        var lower = 0
        var entries = 0
        for entry in store.entries.reversed() where entry.count > 0 {
            if upper == nil { upper = entry.range.upperBound }
            lower = entry.offset
            byOffset[entry.offset] = ranges.count
            entries += 1
            if upper! - lower >= bucketElements {
                ranges.append(lower..<upper!)
                counts.append(entries)
                upper = nil
                entries = 0
            }
        }
        if let upper {
            ranges.append(lower..<upper)
            counts.append(entries)
        }
        self.ranges = ranges
        bucketOfOffset = byOffset
        entriesPerBucket = counts
    }

    /// Readies the buckets for the next backward pass (call before `backward(observer:)`).
    public func begin() {
        precondition(requests.isEmpty, "begin() while a reduction is in flight; call finish() first")
        pending = entriesPerBucket
        firstError = nil
    }

    /// The observer for `Tensor.backward(observer:)`: counts finished parameters, starts
    /// every bucket that is complete and next in order, and polls requests in flight.
    public func observe(_ finished: [FinishedGradient]) {
        guard overlap, communicator.isDistributed, firstError == nil, !pending.isEmpty else { return }
        let base = store.gradients.baseAddress!
        for gradient in finished where gradient.base == base {
            if let bucket = bucketOfOffset[gradient.offset] { pending[bucket] -= 1 }
        }
        while requests.count < ranges.count, pending[requests.count] <= 0 {
            start(requests.count)
        }
        // Polling costs a lock and a library call; every few steps keeps the pipes moving.
        pollCountdown -= 1
        if pollCountdown <= 0, let last = requests.last, !last.isComplete {
            pollCountdown = 4
            do {
                for request in requests where !request.isComplete { _ = try request.test() }
            } catch { firstError = error }
        }
    }

    /// Starts the buckets not yet started and waits for every reduction; the store's
    /// gradients then hold the sum over all ranks.
    /// - Throws: the first ``DistributedError`` of this pass.
    public func finish() throws(DistributedError) {
        defer {
            requests.removeAll()
            pending = []
        }
        if let firstError { try drain(); throw firstError }
        guard communicator.isDistributed else { return }
        if overlap {
            while requests.count < ranges.count { start(requests.count) }
            if let firstError { try drain(); throw firstError }
            for request in requests { try request.wait() }
        } else {
            for range in ranges {
                try communicator.allreduce(UnsafeMutableBufferPointer(rebasing: store.gradients[range]))
            }
        }
    }

    private func start(_ bucket: Int) {
        do {
            requests.append(try communicator.startAllreduce(UnsafeMutableBufferPointer(rebasing: store.gradients[ranges[bucket]])))
        } catch {
            firstError = firstError ?? error
            requests.append(Communicator.Request(communicator: communicator, completed: true))
        }
    }

    /// Waits for what did start, so no request is dropped in flight.
    private func drain() throws(DistributedError) {
        for request in requests { try request.wait() }
    }
}
