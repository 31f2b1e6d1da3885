import FableTensor

/// Updates the parameters of a ``ParameterStore`` from its gradients.
///
/// Every optimizer keeps its per-parameter state in flat Float32 buffers laid out like the
/// parameters it manages (``OptimizerState``), so one step is a loop over memory and a
/// checkpoint saves the state as named tensors (``stateTensors``) and restores it exactly.
public protocol Optimizer: AnyObject {
    /// A short name written to checkpoints ("sgd", "adamw", "muon+adamw").
    var kind: String { get }
    /// The store whose values this optimizer updates.
    var store: ParameterStore { get }
    /// Number of steps taken so far (drives bias correction and decays). Checkpoints save it.
    var stepCount: Int { get set }
    /// Applies one update from `store.gradients`.
    /// - Parameter learningRate: this step's rate (from a schedule), in Double like
    ///   PyTorch's Python floats; derived scalars are rounded to Float once. Optimizers with
    ///   several groups scale it per group; see each type.
    func step(learningRate: Double)
    /// The state buffers as named tensors, one per (state slot, parameter), in a fixed
    /// order. Checkpoints write them and read them back into the same memory.
    var stateTensors: [OptimizerStateTensor] { get }
}

/// One slice of optimizer state, named after its parameter, e.g. `optimizer.adamw.m.lm_head.weight`.
public struct OptimizerStateTensor {
    public let name: String
    public let shape: [Int]
    /// The live state memory: writing to it changes the optimizer.
    public let values: UnsafeMutableBufferPointer<Float>

    public init(name: String, shape: [Int], values: UnsafeMutableBufferPointer<Float>) {
        self.name = name
        self.shape = shape
        self.values = values
    }
}

/// A subset of a store's parameters together with the compact flat layout their state uses.
///
/// State index `i` of the subset maps to one store index; consecutive parameters that are
/// also consecutive in the store form one ``Run``, so an optimizer over all parameters
/// works on a single contiguous range.
public struct ParameterSubset {
    /// A stretch that is contiguous both in the store and in the state buffers.
    public struct Run: Equatable {
        public let storeOffset: Int
        public let stateOffset: Int
        public let count: Int
    }

    public let entries: [ParameterStore.Entry]
    /// Where each entry starts in the state buffers.
    public let stateOffsets: [Int]
    /// Total number of scalars.
    public let count: Int
    public let runs: [Run]

    /// The given entries (in the order given) with back-to-back state offsets.
    public init(_ entries: [ParameterStore.Entry]) {
        self.entries = entries
        var offsets: [Int] = []
        var runs: [Run] = []
        var total = 0
        for entry in entries {
            offsets.append(total)
            if entry.count > 0 {
                if let last = runs.last, last.storeOffset + last.count == entry.offset,
                   last.stateOffset + last.count == total {
                    runs[runs.count - 1] = Run(storeOffset: last.storeOffset, stateOffset: last.stateOffset,
                                               count: last.count + entry.count)
                } else {
                    runs.append(Run(storeOffset: entry.offset, stateOffset: total, count: entry.count))
                }
            }
            total += entry.count
        }
        stateOffsets = offsets
        count = total
        self.runs = runs
    }

    /// Calls `body(storeOffset, stateOffset, count)` for the parts of the runs inside
    /// `range` (a range of state indices).
    @inline(__always)
    func forEachPiece(in range: Range<Int>, _ body: (Int, Int, Int) -> Void) {
        // Binary search for the first run that ends after range.lowerBound.
        var low = 0, high = runs.count
        while low < high {
            let mid = (low + high) / 2
            if runs[mid].stateOffset + runs[mid].count <= range.lowerBound { low = mid + 1 } else { high = mid }
        }
        var index = low
        while index < runs.count, runs[index].stateOffset < range.upperBound {
            let run = runs[index]
            let start = max(run.stateOffset, range.lowerBound)
            let end = min(run.stateOffset + run.count, range.upperBound)
            if end > start { body(run.storeOffset + (start - run.stateOffset), start, end - start) }
            index += 1
        }
    }
}

/// One zero-initialised Float32 buffer of optimizer state, laid out like a ``ParameterSubset``.
public final class OptimizerState {
    public let subset: ParameterSubset
    public let values: UnsafeMutableBufferPointer<Float>

    public init(subset: ParameterSubset) {
        self.subset = subset
        values = .allocate(capacity: subset.count)
        values.initialize(repeating: 0)
    }

    deinit { values.deallocate() }

    /// The state of each entry as a named tensor, `prefix` + parameter name.
    public func tensors(prefix: String) -> [OptimizerStateTensor] {
        zip(subset.entries, subset.stateOffsets).map { entry, offset in
            OptimizerStateTensor(
                name: prefix + entry.name, shape: entry.shape,
                values: UnsafeMutableBufferPointer(rebasing: values[offset..<(offset + entry.count)]))
        }
    }
}
