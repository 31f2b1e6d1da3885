/// A row-major Float32 n-dimensional array with reverse-mode automatic differentiation.
///
/// # API overview
///
/// **Layout.** Every tensor is contiguous and row-major: `shape` plus an offset into a
/// ``TensorStorage``. `reshaped(_:)` and `slice(axis: 0, _:)` are free
/// views of the same storage; `transposed(_:_:)`, `permuted(_:)`, `slice` on other axes
/// and `concatenate(_:axis:)` copy. Kernels read inputs as flat buffers.
///
/// **Creation.** `Tensor(shape:data:)`, `Tensor(_ scalar)`, `.zeros(_:)`, `.ones(_:)`,
/// `.full(_:value:)`, `.arange(_:)`, `.normal(_:mean:std:generator:)`,
/// `.truncatedNormal(_:mean:std:lower:upper:generator:)` (seeded by ``RandomGenerator``,
/// drawn in element order), and ``parameter(_:_:)`` / `parameter(_:named:)`, which view one
/// entry of a ``ParameterStore``: values are the store's memory and the gradient
/// accumulates straight into the store's gradient slice, so optimizers, clipping and
/// checkpoints loop over the flat buffers (call `store.zeroGradients()` between steps).
/// Read results with `toArray()`, `item()`, `t[i, j]` or `withUnsafeBufferPointer(_:)`;
/// `grad` views the gradient.
///
/// **Ops** (each in its own file, forward and backward side by side):
/// - elementwise with NumPy broadcasting: `+ - * /` (tensor or Float), unary `-`, `exp()`,
///   `log()`, `sqrt()`, `rsqrt()`, `reciprocal()`, `square()`, `sigmoid()`, `silu()`,
///   `relu()`, `pow(_:)`, `affine(scale:shift:)`
/// - reductions over an axis (negative axes count from the end) or everything:
///   `sum(axis:keepDims:)`, `mean(axis:keepDims:)`, `max(axis:keepDims:)`, `sum()`, `mean()`;
///   `argmax(axis:)` returns indices
/// - `softmax(axis:)`, `logSoftmax(axis:)` (max-subtraction trick)
/// - `Tensor.matmul(a, b, transposeA:transposeB:)` over the last two axes with batch axes
///   (equal, or one operand a plain matrix), and `Tensor.linear(x, W)` = x · Wᵀ with W
///   shaped (out, in) as in PyTorch; all products go through `GEMM`
/// - `Tensor.embedding(W, indices:shape:)` (gather rows; backward scatter-adds)
/// - `maskedFill(_:maskShape:value:)` (true = fill, broadcast) and `Tensor.causalMask(_:)`
/// - fused, each with its own backward: `Tensor.rmsNorm(x, gain:eps:)`,
///   `Tensor.swiGLU(a, b)` (silu(a)·b) and `Tensor.swiGLU(x, w1:w2:w3:)`,
///   ``RoPE`` (`RoPE(theta:dK:maxSequenceLength:)`, `rope.apply(x, positions:layout:)`),
///   `Tensor.scaledDotProductAttention(query:key:value:causal:mask:layout:)` (mask true =
///   may attend; ``AttentionLayout/sequenceFirst`` reads (B, T, heads, d) straight from a
///   reshaped projection), `Tensor.crossEntropy(logits, targets:)` (mean over all rows)
///
/// **Autograd.** An op records a node when grad mode is on and any input
/// `requiresGrad`. `loss.backward()` (a scalar) or `out.backward(seed:)` walks the graph
/// once in reverse topological order, accumulates into each leaf's ``grad`` (adding to what
/// is there, so repeated backward calls accumulate), and frees every intermediate buffer as
/// soon as no remaining step needs it; the graph is consumed. ``withNoGrad(_:)`` runs a
/// closure without recording (task-local, so it covers the calling thread and its child
/// tasks). `detached()` returns a tensor that shares data but not history.
///
/// **Threads and memory.** Kernels split work with
/// ``Parallel/forEachChunk(_:minimumChunk:_:)`` by a fixed rule and reduce in a fixed order,
/// so results are identical run to run for a given ``Parallel/threadCount``. Freed buffers
/// of 64 KiB and more are kept for reuse (``TensorStorage/cacheLimitBytes``, default 2 GiB),
/// since every training step allocates the same shapes again.
///
/// Shapes that do not fit an op are programming errors and stop with a precondition
/// message naming the op and the shapes.
public final class Tensor {
    /// The size of each dimension; `[]` for a scalar.
    public let shape: [Int]
    /// The number of elements (the product of `shape`).
    public let count: Int
    /// The memory this tensor views.
    public let storage: TensorStorage
    /// The element offset of this tensor's first element inside `storage`.
    public let offset: Int

    /// Whether gradients flow to this tensor. Set it on leaves you want gradients for.
    public var requiresGrad: Bool
    /// The recorded step that produced this tensor, if it was computed with grad on.
    var gradNode: GradNode?
    /// Where this tensor's gradient lives, once it has one.
    var gradStorage: TensorStorage?
    var gradOffset = 0
    /// True when the gradient buffer already holds values to add to.
    var gradHasValues = false
    /// True when the gradient buffer belongs to someone else (a parameter store) and
    /// must survive backward passes.
    var gradIsExternal = false

    /// Creates a tensor over `storage` starting at `offset`.
    init(shape: [Int], storage: TensorStorage, offset: Int = 0, requiresGrad: Bool = false) {
        let count = shape.reduce(1, *)
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        precondition(offset + count <= storage.count, "view \(shape) at \(offset) exceeds storage of \(storage.count)")
        self.shape = shape
        self.count = count
        self.storage = storage
        self.offset = offset
        self.requiresGrad = requiresGrad
    }

    /// A tensor with uninitialised memory, for kernels that write every element.
    init(uninitialized shape: [Int]) {
        let count = shape.reduce(1, *)
        self.shape = shape
        self.count = count
        self.storage = TensorStorage(uninitializedCount: count)
        self.offset = 0
        self.requiresGrad = false
    }

    /// The first element. Elements are contiguous and row-major. Internal: the pointer is
    /// valid only while this tensor (or another view of its storage) is alive, which the
    /// kernels here guarantee by holding the tensors; other modules use
    /// ``withUnsafeBufferPointer(_:)`` and ``withUnsafeMutableBufferPointer(_:)``.
    var data: UnsafeMutablePointer<Float> { storage.base + offset }

    /// Calls `body` with the elements, row-major. The buffer is valid only inside `body`.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try withExtendedLifetime(self) { try body(UnsafeBufferPointer(start: data, count: count)) }
    }

    /// Calls `body` with the elements to read and write, row-major (views of the same
    /// storage see the writes). The buffer is valid only inside `body`.
    public func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try withExtendedLifetime(self) { try body(UnsafeMutableBufferPointer(start: data, count: count)) }
    }

    /// The number of dimensions.
    public var rank: Int { shape.count }
}

// MARK: - Creation

extension Tensor {
    /// A tensor holding `data` (row-major) with the given shape.
    public convenience init(shape: [Int], data: [Float], requiresGrad: Bool = false) {
        let count = shape.reduce(1, *)
        precondition(count == data.count, "Tensor(shape: \(shape)) needs \(count) values, got \(data.count)")
        let storage = TensorStorage(uninitializedCount: count)
        data.withUnsafeBufferPointer { source in
            if count > 0 { storage.base.initialize(from: source.baseAddress!, count: count) }
        }
        self.init(shape: shape, storage: storage, requiresGrad: requiresGrad)
    }

    /// A rank-0 tensor holding one value.
    public convenience init(_ scalar: Float, requiresGrad: Bool = false) {
        self.init(shape: [], data: [scalar], requiresGrad: requiresGrad)
    }

    /// A tensor of the given shape filled with `value`.
    public static func full(_ shape: [Int], value: Float, requiresGrad: Bool = false) -> Tensor {
        let storage = TensorStorage(count: shape.reduce(1, *), repeating: value)
        return Tensor(shape: shape, storage: storage, requiresGrad: requiresGrad)
    }

    /// A tensor of zeros.
    public static func zeros(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        full(shape, value: 0, requiresGrad: requiresGrad)
    }

    /// A tensor of ones.
    public static func ones(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        full(shape, value: 1, requiresGrad: requiresGrad)
    }

    /// The values `0, 1, ..., count - 1` as a rank-1 tensor.
    public static func arange(_ count: Int) -> Tensor {
        let t = Tensor(uninitialized: [count])
        for i in 0..<count { t.data[i] = Float(i) }
        return t
    }

    /// Samples from a normal distribution, drawing from `generator` in element order.
    public static func normal(
        _ shape: [Int], mean: Float = 0, std: Float = 1,
        generator: inout RandomGenerator, requiresGrad: Bool = false
    ) -> Tensor {
        let t = Tensor(uninitialized: shape)
        for i in 0..<t.count {
            t.data[i] = mean + std * Float(generator.nextNormal())
        }
        t.requiresGrad = requiresGrad
        return t
    }

    /// Samples from a normal distribution truncated to `[lower, upper]` by rejection
    /// (redrawing out-of-range samples), as `torch.nn.init.trunc_normal_` does.
    ///
    /// - Parameters:
    ///   - lower: the smallest value kept; defaults to `mean - 3 std` (the CS336 choice).
    ///   - upper: the largest value kept; defaults to `mean + 3 std`.
    public static func truncatedNormal(
        _ shape: [Int], mean: Float = 0, std: Float = 1,
        lower: Float? = nil, upper: Float? = nil,
        generator: inout RandomGenerator, requiresGrad: Bool = false
    ) -> Tensor {
        let lo = Double(lower ?? mean - 3 * std), hi = Double(upper ?? mean + 3 * std)
        precondition(lo < hi, "truncatedNormal needs lower < upper, got \(lo) and \(hi)")
        let t = Tensor(uninitialized: shape)
        for i in 0..<t.count {
            var value: Double
            repeat {
                value = Double(mean) + Double(std) * generator.nextNormal()
            } while value < lo || value > hi
            t.data[i] = Float(value)
        }
        t.requiresGrad = requiresGrad
        return t
    }

    /// A tensor that views one parameter of `store`.
    ///
    /// Its values are the store's memory (no copy; an optimizer that updates
    /// `store.values` updates this tensor) and its gradient accumulates directly into
    /// `store.gradients(of: entry)`. Call `store.zeroGradients()` between steps.
    public static func parameter(_ store: ParameterStore, _ entry: ParameterStore.Entry) -> Tensor {
        let values = TensorStorage(borrowing: store.values.baseAddress!, count: store.count, owner: store)
        let t = Tensor(shape: entry.shape, storage: values, offset: entry.offset, requiresGrad: true)
        t.gradStorage = TensorStorage(borrowing: store.gradients.baseAddress!, count: store.count, owner: store)
        t.gradOffset = entry.offset
        t.gradHasValues = true
        t.gradIsExternal = true
        return t
    }

    /// The parameter called `name` in `store`, or nil when the store has no such entry.
    public static func parameter(_ store: ParameterStore, named name: String) -> Tensor? {
        store.entry(named: name).map { parameter(store, $0) }
    }
}

// MARK: - Reading values

extension Tensor {
    /// The elements in row-major order.
    public func toArray() -> [Float] {
        Array(UnsafeBufferPointer(start: data, count: count))
    }

    /// The single value of a one-element tensor.
    public func item() -> Float {
        precondition(count == 1, "item() needs one element, shape is \(shape)")
        return data[0]
    }

    /// The element at a multi-dimensional index (slow; for tests and inspection).
    public subscript(_ index: Int...) -> Float {
        get { data[flatIndex(index)] }
        set { data[flatIndex(index)] = newValue }
    }

    private func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == rank, "index \(index) does not match shape \(shape)")
        var flat = 0
        for (i, dim) in shape.enumerated() {
            precondition(index[i] >= 0 && index[i] < dim, "index \(index) out of range for shape \(shape)")
            flat = flat * dim + index[i]
        }
        return flat
    }

    /// The accumulated gradient, viewing the gradient buffer (for a parameter: its slice of
    /// the store's gradients). Nil until a backward pass reached this tensor.
    public var grad: Tensor? {
        guard let gradStorage, gradHasValues else { return nil }
        return Tensor(shape: shape, storage: gradStorage, offset: gradOffset)
    }

    /// Forgets the accumulated gradient (a parameter's store slice is set to zero instead).
    public func zeroGrad() {
        if gradIsExternal {
            if let gradStorage { (gradStorage.base + gradOffset).update(repeating: 0, count: count) }
        } else {
            gradStorage = nil
            gradHasValues = false
        }
    }

    /// A tensor sharing this tensor's data with no gradient history.
    public func detached() -> Tensor {
        Tensor(shape: shape, storage: storage, offset: offset)
    }

    /// A copy with its own memory and no gradient history.
    public func copy() -> Tensor {
        let t = Tensor(uninitialized: shape)
        t.data.update(from: data, count: count)
        return t
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let preview = (0..<Swift.min(count, 8)).map { "\(data[$0])" }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(preview)\(count > 8 ? ", ..." : "")])"
    }
}
