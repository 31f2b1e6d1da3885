// Broadcasting binary arithmetic: + - * / between tensors and with scalars.

/// A binary elementwise operation on eight lanes.
protocol BinaryKernel {
    static func apply(_ a: Vector.V, _ b: Vector.V) -> Vector.V
}

enum AddKernel: BinaryKernel { @inline(__always) static func apply(_ a: Vector.V, _ b: Vector.V) -> Vector.V { a + b } }
enum SubKernel: BinaryKernel { @inline(__always) static func apply(_ a: Vector.V, _ b: Vector.V) -> Vector.V { a - b } }
enum MulKernel: BinaryKernel { @inline(__always) static func apply(_ a: Vector.V, _ b: Vector.V) -> Vector.V { a * b } }
enum DivKernel: BinaryKernel { @inline(__always) static func apply(_ a: Vector.V, _ b: Vector.V) -> Vector.V { a / b } }

// MARK: - Broadcast kernel

extension BroadcastPlan {
    /// `out = K(a, b)` (or `out += K(a, b)` when `accumulate`) over the broadcast shape.
    func run<K: BinaryKernel>(
        _: K.Type, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
        into out: UnsafeMutablePointer<Float>, accumulate: Bool = false
    ) {
        let inner = self.inner, sa = aInnerStride, sb = bInnerStride
        /// Elements `span` of one row whose operands start at pa and pb.
        @inline(__always)
        func segment(_ pa: UnsafePointer<Float>, _ pb: UnsafePointer<Float>, _ po: UnsafeMutablePointer<Float>, _ span: Range<Int>) {
            @inline(__always) func lane(_ p: UnsafePointer<Float>, _ s: Int, _ i: Int) -> Vector.V {
                s == 1 ? Vector.load(p + i) : Vector.V(repeating: p[0])
            }
            var i = span.lowerBound
            while i + 8 <= span.upperBound {
                var r = K.apply(lane(pa, sa, i), lane(pb, sb, i))
                if accumulate { r += Vector.load(po + i) }
                Vector.store(r, po + i)
                i += 8
            }
            while i < span.upperBound {
                let r = K.apply(Vector.V(repeating: pa[i * sa]), Vector.V(repeating: pb[i * sb]))[0]
                po[i] = accumulate ? po[i] + r : r
                i += 1
            }
        }
        if rows == 1 {
            // One long run (same shapes, or a scalar operand): split the run itself.
            Parallel.forEachChunk(inner, minimumChunk: 32_768) { span in segment(a, b, out, span) }
            return
        }
        Parallel.forEachChunk(rows, minimumChunk: minimumRowsPerChunk) { range in
            forEachRow(range) { row, aOff, bOff in
                segment(a + aOff, b + bOff, out + row * inner, 0..<inner)
            }
        }
    }
}

// MARK: - Tensor ⊕ tensor

extension Tensor {
    /// Adds `source` (shaped like `plan.outShape`) into the gradient of operand a or b,
    /// reducing over broadcast axes when the operand was broadcast.
    fileprivate func accumulateBroadcastGrad(_ source: UnsafePointer<Float>, plan: BroadcastPlan, operandB: Bool) {
        accumulateGrad { g, acc in
            if count == plan.count {
                if acc {
                    Parallel.forEachChunk(count, minimumChunk: 32_768) { r in
                        Vector.add(g + r.lowerBound, source + r.lowerBound, into: g + r.lowerBound, count: r.count)
                    }
                } else {
                    g.update(from: source, count: count)
                }
            } else {
                plan.reduce(source, into: g, operandCount: count, operandB: operandB, accumulate: acc)
            }
        }
    }

    /// `a + b` with broadcasting.
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let plan = BroadcastPlan(a.shape, b.shape, op: "+")
        let out = Tensor(uninitialized: plan.outShape)
        plan.run(AddKernel.self, a.data, b.data, into: out.data)
        return record(out, "add", [a, b]) { _, grad in
            a.accumulateBroadcastGrad(grad, plan: plan, operandB: false)
            b.accumulateBroadcastGrad(grad, plan: plan, operandB: true)
        }
    }

    /// `a - b` with broadcasting.
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let plan = BroadcastPlan(a.shape, b.shape, op: "-")
        let out = Tensor(uninitialized: plan.outShape)
        plan.run(SubKernel.self, a.data, b.data, into: out.data)
        return record(out, "sub", [a, b]) { out, grad in
            a.accumulateBroadcastGrad(grad, plan: plan, operandB: false)
            if b.requiresGrad {
                let negated = Tensor(uninitialized: out.shape)
                Vector.scale(-1, grad, into: negated.data, count: out.count, accumulate: false)
                b.accumulateBroadcastGrad(negated.data, plan: plan, operandB: true)
            }
        }
    }

    /// `a * b` (elementwise) with broadcasting.
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let plan = BroadcastPlan(a.shape, b.shape, op: "*")
        let out = Tensor(uninitialized: plan.outShape)
        plan.run(MulKernel.self, a.data, b.data, into: out.data)
        return record(out, "mul", [a, b]) { out, grad in
            // d/da = grad * b and d/db = grad * a, each reduced to its operand's shape.
            a.accumulateProductGrad(grad, times: b, outShape: out.shape, plan: plan, operandB: false)
            b.accumulateProductGrad(grad, times: a, outShape: out.shape, plan: plan, operandB: true)
        }
    }

    /// Adds `reduce(grad * other)` into this operand's gradient, writing straight into the
    /// gradient buffer when this operand was not broadcast.
    fileprivate func accumulateProductGrad(
        _ grad: UnsafePointer<Float>, times other: Tensor, outShape: [Int], plan: BroadcastPlan, operandB: Bool
    ) {
        guard requiresGrad else { return }
        let productPlan = BroadcastPlan(outShape, other.shape, op: "*")
        if count == plan.count {
            accumulateGrad { g, acc in productPlan.run(MulKernel.self, grad, other.data, into: g, accumulate: acc) }
        } else {
            let t = Tensor(uninitialized: outShape)
            productPlan.run(MulKernel.self, grad, other.data, into: t.data)
            accumulateBroadcastGrad(t.data, plan: plan, operandB: operandB)
        }
    }

    /// `a / b` (elementwise) with broadcasting.
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let plan = BroadcastPlan(a.shape, b.shape, op: "/")
        let out = Tensor(uninitialized: plan.outShape)
        plan.run(DivKernel.self, a.data, b.data, into: out.data)
        return record(out, "div", [a, b]) { out, grad in
            let gplan = BroadcastPlan(out.shape, b.shape, op: "/")
            if a.requiresGrad {
                // d/da = grad / b
                let t = Tensor(uninitialized: out.shape)
                gplan.run(DivKernel.self, grad, b.data, into: t.data)
                a.accumulateBroadcastGrad(t.data, plan: plan, operandB: false)
            }
            if b.requiresGrad {
                // d/db = -grad * out / b
                let t = Tensor(uninitialized: out.shape)
                BroadcastPlan(out.shape, out.shape, op: "/").run(MulKernel.self, grad, out.data, into: t.data)
                gplan.run(DivKernel.self, t.data, b.data, into: t.data)
                Vector.scale(-1, t.data, into: t.data, count: t.count, accumulate: false)
                b.accumulateBroadcastGrad(t.data, plan: plan, operandB: true)
            }
        }
    }
}

// MARK: - Tensor ⊕ scalar

extension Tensor {
    public static func + (a: Tensor, b: Float) -> Tensor { a.affine(scale: 1, shift: b) }
    public static func + (a: Float, b: Tensor) -> Tensor { b.affine(scale: 1, shift: a) }
    public static func - (a: Tensor, b: Float) -> Tensor { a.affine(scale: 1, shift: -b) }
    public static func - (a: Float, b: Tensor) -> Tensor { b.affine(scale: -1, shift: a) }
    public static func * (a: Tensor, b: Float) -> Tensor { a.affine(scale: b, shift: 0) }
    public static func * (a: Float, b: Tensor) -> Tensor { b.affine(scale: a, shift: 0) }
    public static func / (a: Tensor, b: Float) -> Tensor { a.affine(scale: 1 / b, shift: 0) }
    public static func / (a: Float, b: Tensor) -> Tensor { b.reciprocal() * a }
    public static prefix func - (a: Tensor) -> Tensor { a.affine(scale: -1, shift: 0) }

    /// `scale * x + shift`, elementwise.
    public func affine(scale: Float, shift: Float) -> Tensor {
        let out = Tensor(uninitialized: shape)
        let x = data, y = out.data
        Parallel.forEachChunk(count, minimumChunk: 32_768) { r in
            var i = r.lowerBound
            let s = Vector.V(repeating: scale), t = Vector.V(repeating: shift)
            while i + 8 <= r.upperBound { Vector.store(Vector.load(x + i) * s + t, y + i); i += 8 }
            while i < r.upperBound { y[i] = x[i] * scale + shift; i += 1 }
        }
        return Tensor.record(out, "affine", [self]) { [self] out, grad in
            accumulateGrad { g, acc in
                Parallel.forEachChunk(count, minimumChunk: 32_768) { r in
                    Vector.scale(scale, grad + r.lowerBound, into: g + r.lowerBound, count: r.count, accumulate: acc)
                }
            }
        }
    }
}
