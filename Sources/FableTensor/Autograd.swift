/// One recorded step of the forward pass: the inputs it read and how to send the
/// output's gradient back to them.
///
/// The backward closure receives the output tensor (so it can read the forward result
/// without a reference cycle) and a pointer to the output's gradient, and adds into the
/// inputs' gradients through ``Tensor/accumulateGrad(_:)``. After it runs, the node drops
/// its inputs and closure, which frees every buffer only the backward pass still needed.
final class GradNode {
    let name: String
    var inputs: [Tensor]
    var backward: ((Tensor, UnsafePointer<Float>) -> Void)?

    init(name: String, inputs: [Tensor], backward: @escaping (Tensor, UnsafePointer<Float>) -> Void) {
        self.name = name
        self.inputs = inputs
        self.backward = backward
    }
}

// MARK: - Grad mode

/// Whether ops record gradient history; see ``withNoGrad(_:)``.
public enum GradMode {
    @TaskLocal static var enabledLocal = true

    /// True unless inside ``withNoGrad(_:)``.
    public static var isEnabled: Bool { enabledLocal }
}

/// Runs `body` without recording gradient history (evaluation and generation).
///
/// The setting is task-local: it applies to the calling thread for the duration of
/// `body` and to child tasks it creates, and to nothing else.
@discardableResult
public func withNoGrad<T>(_ body: () throws -> T) rethrows -> T {
    try GradMode.$enabledLocal.withValue(false, operation: body)
}

// MARK: - Recording

extension Tensor {
    /// Whether an op over `inputs` should record a node.
    @inline(__always)
    static func needsGrad(_ inputs: [Tensor]) -> Bool {
        inputs.contains { $0.requiresGrad } && GradMode.isEnabled
    }

    /// Records `output` as produced from `inputs` when any input requires grad.
    /// - Parameters:
    ///   - name: the op, for debugging.
    ///   - backward: given the output and its gradient, adds into the inputs' gradients.
    @discardableResult
    static func record(
        _ output: Tensor, _ name: String, _ inputs: [Tensor],
        backward: @escaping (Tensor, UnsafePointer<Float>) -> Void
    ) -> Tensor {
        if needsGrad(inputs) {
            output.requiresGrad = true
            output.gradNode = GradNode(name: name, inputs: inputs, backward: backward)
        }
        return output
    }

    /// Gives `body` this tensor's gradient buffer to add into, creating it when needed.
    ///
    /// `body` receives the buffer and `accumulate`: when false the buffer is fresh
    /// (uninitialised) and `body` must write every element; when true it must add.
    /// Does nothing when the tensor does not require grad.
    func accumulateGrad(_ body: (UnsafeMutablePointer<Float>, _ accumulate: Bool) -> Void) {
        guard requiresGrad else { return }
        if gradStorage == nil {
            gradStorage = TensorStorage(uninitializedCount: count)
            gradOffset = 0
            gradHasValues = false
        }
        body(gradStorage!.base + gradOffset, gradHasValues)
        gradHasValues = true
    }

    /// This tensor's gradient buffer for a kernel that writes it directly (for example from
    /// several threads), or nil when the tensor does not require grad.
    ///
    /// `accumulate` is false when the buffer is fresh (uninitialised; write every element)
    /// and true when the kernel must add. The buffer counts as written once this returns.
    func gradBuffer() -> (pointer: UnsafeMutablePointer<Float>, accumulate: Bool)? {
        guard requiresGrad else { return nil }
        var result: (UnsafeMutablePointer<Float>, Bool)?
        accumulateGrad { p, acc in result = (p, acc) }
        return result
    }

    /// Makes `output`'s gradient buffer this tensor's gradient, without copying, when this
    /// tensor requires grad, has no gradient yet and `output` holds the same number of
    /// elements. Only valid once `output`'s own backward step is running (nothing writes
    /// its gradient afterwards). Returns false when it did not apply.
    func adoptGrad(from output: Tensor) -> Bool {
        guard requiresGrad, gradStorage == nil, !gradIsExternal, output.count == count,
              let storage = output.gradStorage, output.gradHasValues else { return false }
        gradStorage = storage
        gradOffset = output.gradOffset
        gradHasValues = true
        return true
    }

    /// Adds `source` (count elements) into this tensor's gradient.
    func accumulateGrad(adding source: UnsafePointer<Float>) {
        accumulateGrad { grad, accumulate in
            let n = count
            if accumulate {
                Parallel.forEachChunk(n, minimumChunk: 1 << 15) { r in
                    Vector.add(grad + r.lowerBound, source + r.lowerBound, into: grad + r.lowerBound, count: r.count)
                }
            } else {
                Parallel.forEachChunk(n, minimumChunk: 1 << 15) { r in
                    (grad + r.lowerBound).update(from: source + r.lowerBound, count: r.count)
                }
            }
        }
    }
}

// MARK: - Backward

/// A parameter's gradient that a running backward pass will no longer write: `count`
/// elements at `offset` in the gradient buffer that starts at `base` (for a parameter of a
/// ``ParameterStore``, `base` is `store.gradients.baseAddress` and `offset` its entry's).
public struct FinishedGradient: Equatable {
    public let base: UnsafeMutablePointer<Float>
    public let offset: Int
    public let count: Int
}

extension Tensor {
    /// Back-propagates from this tensor, which must hold one element, with seed 1.
    public func backward() {
        precondition(count == 1, "backward() without a seed needs a one-element tensor, shape is \(shape)")
        precondition(requiresGrad, "backward() on a tensor that does not require grad")
        accumulateGrad { g, acc in g[0] = acc ? g[0] + 1 : 1 }
        propagate()
    }

    /// Back-propagates from this tensor, which must hold one element, with seed 1, telling
    /// `observer` after every recorded step which parameter gradients are final.
    ///
    /// A parameter's gradient (a slice of a ``ParameterStore``'s gradient buffer) is final
    /// once the last step that adds into it has run; a data-parallel trainer starts reducing
    /// a bucket of gradients then, while the rest of the pass runs (overlap). The observer is
    /// called after every step, usually with an empty list, so it can also poll requests in
    /// flight. Results are the same as ``backward()``.
    public func backward(observer: (_ finished: [FinishedGradient]) -> Void) {
        precondition(count == 1, "backward() without a seed needs a one-element tensor, shape is \(shape)")
        precondition(requiresGrad, "backward() on a tensor that does not require grad")
        accumulateGrad { g, acc in g[0] = acc ? g[0] + 1 : 1 }
        propagate(observing: true, observer)
    }

    /// Back-propagates from this tensor with `seed` as its gradient (same shape).
    public func backward(seed: Tensor) {
        precondition(seed.shape == shape, "backward(seed:) shape \(seed.shape) does not match \(shape)")
        precondition(requiresGrad, "backward(seed:) on a tensor that does not require grad")
        accumulateGrad(adding: seed.data)
        propagate()
    }

    /// Runs every recorded backward step reachable from this tensor, whose gradient is set.
    private func propagate() {
        propagate(observing: false) { _ in }
    }

    /// ``propagate()``, calling `observer` after every step when `observing` is true.
    private func propagate(observing: Bool, _ observer: (_ finished: [FinishedGradient]) -> Void) {
        let order = topologicalOrder()
        // For the observer: the position in `order` of the last step (walking backwards,
        // the lowest index) that adds into each parameter gradient.
        var finishedAt: [Int: [FinishedGradient]] = [:]
        if observing {
            var lastUse: [ObjectIdentifier: (index: Int, tensor: Tensor)] = [:]
            for (index, tensor) in order.enumerated() {
                for input in tensor.gradNode!.inputs where input.gradIsExternal && input.gradNode == nil {
                    let key = ObjectIdentifier(input)
                    if lastUse[key] == nil { lastUse[key] = (index, input) }  // first seen is the lowest
                }
            }
            for (index, tensor) in lastUse.values {
                guard let storage = tensor.gradStorage else { continue }
                finishedAt[index, default: []].append(
                    FinishedGradient(base: storage.base, offset: tensor.gradOffset, count: tensor.count))
            }
        }
        // Walk outputs before inputs; drop each tensor as soon as it is done so its
        // buffers (and the activations its node saved) are freed mid-pass.
        var pending: [Tensor?] = order
        for index in stride(from: pending.count - 1, through: 0, by: -1) {
            guard let tensor = pending[index] else { continue }
            pending[index] = nil
            guard let node = tensor.gradNode else { continue }
            if tensor.gradHasValues, let run = node.backward, let gradStorage = tensor.gradStorage {
                run(tensor, UnsafePointer(gradStorage.base + tensor.gradOffset))
            }
            node.backward = nil
            node.inputs = []
            tensor.gradNode = nil
            if !tensor.gradIsExternal {
                tensor.gradStorage = nil
                tensor.gradHasValues = false
            }
            if observing { observer(finishedAt[index] ?? []) }
        }
    }

    /// Every tensor with a recorded node reachable from this one, inputs before outputs.
    private func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        // Iterative post-order DFS: (tensor, next input index to visit).
        var stack: [(Tensor, Int)] = []
        if gradNode != nil {
            stack.append((self, 0))
            visited.insert(ObjectIdentifier(self))
        }
        while let (tensor, next) = stack.last {
            let inputs = tensor.gradNode!.inputs
            if next < inputs.count {
                stack[stack.count - 1].1 = next + 1
                let input = inputs[next]
                if input.gradNode != nil, visited.insert(ObjectIdentifier(input)).inserted {
                    stack.append((input, 0))
                }
            } else {
                stack.removeLast()
                order.append(tensor)
            }
        }
        return order
    }
}
