// Unary elementwise math: each op is a kernel with its forward f(x) and its backward
// grad * f'(x), written in terms of the input x and the output y.

/// A unary elementwise operation on eight lanes, with its derivative.
protocol UnaryKernel {
    /// y = f(x)
    func forward(_ x: Vector.V) -> Vector.V
    /// grad * f'(x), given x and y = f(x).
    func backward(_ grad: Vector.V, x: Vector.V, y: Vector.V) -> Vector.V
}

// MARK: - Kernels

struct ExpKernel: UnaryKernel {
    @inline(__always) func forward(_ x: Vector.V) -> Vector.V { Vector.exp(x) }
    @inline(__always) func backward(_ g: Vector.V, x: Vector.V, y: Vector.V) -> Vector.V { g * y }
}

struct LogKernel: UnaryKernel {
    @inline(__always) func forward(_ x: Vector.V) -> Vector.V {
        var y = Vector.V()
        for i in 0..<8 { y[i] = libmLog(x[i]) }
        return y
    }
    @inline(__always) func backward(_ g: Vector.V, x: Vector.V, y: Vector.V) -> Vector.V { g / x }
}

struct SqrtKernel: UnaryKernel {
    @inline(__always) func forward(_ x: Vector.V) -> Vector.V { x.squareRoot() }
    @inline(__always) func backward(_ g: Vector.V, x: Vector.V, y: Vector.V) -> Vector.V { g * 0.5 / y }
}

struct RsqrtKernel: UnaryKernel {
    @inline(__always) func forward(_ x: Vector.V) -> Vector.V { 1 / x.squareRoot() }
    @inline(__always) func backward(_ g: Vector.V, x: Vector.V, y: Vector.V) -> Vector.V { g * -0.5 * y * y * y }
}

struct ReciprocalKernel: UnaryKernel {
    @inline(__always) func forward(_ x: Vector.V) -> Vector.V { 1 / x }
    @inline(__always) func backward(_ g: Vector.V, x: Vector.V, y: Vector.V) -> Vector.V { -g * y * y }
}

struct SquareKernel: UnaryKernel {
    @inline(__always) func forward(_ x: Vector.V) -> Vector.V { x * x }
    @inline(__always) func backward(_ g: Vector.V, x: Vector.V, y: Vector.V) -> Vector.V { 2 * g * x }
}

struct SigmoidKernel: UnaryKernel {
    @inline(__always) func forward(_ x: Vector.V) -> Vector.V { Vector.sigmoid(x) }
    @inline(__always) func backward(_ g: Vector.V, x: Vector.V, y: Vector.V) -> Vector.V { g * y * (1 - y) }
}

struct SiLUKernel: UnaryKernel {
    @inline(__always) func forward(_ x: Vector.V) -> Vector.V { x * Vector.sigmoid(x) }
    @inline(__always) func backward(_ g: Vector.V, x: Vector.V, y: Vector.V) -> Vector.V {
        let s = Vector.sigmoid(x)
        return g * s * (1 + x * (1 - s))
    }
}

struct ReLUKernel: UnaryKernel {
    @inline(__always) func forward(_ x: Vector.V) -> Vector.V { Vector.maximum(x, Vector.V()) }
    @inline(__always) func backward(_ g: Vector.V, x: Vector.V, y: Vector.V) -> Vector.V {
        g.replacing(with: 0, where: x .<= 0)
    }
}

struct PowKernel: UnaryKernel {
    let exponent: Float
    @inline(__always) func forward(_ x: Vector.V) -> Vector.V {
        var y = Vector.V()
        for i in 0..<8 { y[i] = libmPow(x[i], exponent) }
        return y
    }
    @inline(__always) func backward(_ g: Vector.V, x: Vector.V, y: Vector.V) -> Vector.V {
        var d = Vector.V()
        for i in 0..<8 { d[i] = exponent * libmPow(x[i], exponent - 1) }
        return g * d
    }
}

// MARK: - Driver

extension Tensor {
    /// Applies `kernel` elementwise and records its backward.
    func unary<K: UnaryKernel>(_ kernel: K, _ name: String) -> Tensor {
        let out = Tensor(uninitialized: shape)
        let x = data, y = out.data
        Parallel.forEachChunk(count, minimumChunk: 16_384) { r in
            var i = r.lowerBound
            while i + 8 <= r.upperBound { Vector.store(kernel.forward(Vector.load(x + i)), y + i); i += 8 }
            if i < r.upperBound {
                var tail = Vector.V()
                for j in 0..<(r.upperBound - i) { tail[j] = x[i + j] }
                let t = kernel.forward(tail)
                for j in 0..<(r.upperBound - i) { y[i + j] = t[j] }
            }
        }
        return Tensor.record(out, name, [self]) { [self] out, grad in
            let y = UnsafePointer(out.data)
            accumulateGrad { g, acc in
                Parallel.forEachChunk(count, minimumChunk: 16_384) { r in
                    var i = r.lowerBound
                    while i + 8 <= r.upperBound {
                        var d = kernel.backward(Vector.load(grad + i), x: Vector.load(x + i), y: Vector.load(y + i))
                        if acc { d += Vector.load(g + i) }
                        Vector.store(d, g + i)
                        i += 8
                    }
                    let n = r.upperBound - i
                    if n > 0 {
                        var tg = Vector.V(), tx = Vector.V(repeating: 1), ty = Vector.V(repeating: 1)
                        for j in 0..<n { tg[j] = grad[i + j]; tx[j] = x[i + j]; ty[j] = y[i + j] }
                        let d = kernel.backward(tg, x: tx, y: ty)
                        for j in 0..<n { g[i + j] = acc ? g[i + j] + d[j] : d[j] }
                    }
                }
            }
        }
    }

    /// e^x.
    public func exp() -> Tensor { unary(ExpKernel(), "exp") }
    /// The natural logarithm.
    public func log() -> Tensor { unary(LogKernel(), "log") }
    /// The square root.
    public func sqrt() -> Tensor { unary(SqrtKernel(), "sqrt") }
    /// 1 / sqrt(x).
    public func rsqrt() -> Tensor { unary(RsqrtKernel(), "rsqrt") }
    /// 1 / x.
    public func reciprocal() -> Tensor { unary(ReciprocalKernel(), "reciprocal") }
    /// x².
    public func square() -> Tensor { unary(SquareKernel(), "square") }
    /// 1 / (1 + e^-x).
    public func sigmoid() -> Tensor { unary(SigmoidKernel(), "sigmoid") }
    /// x · sigmoid(x) (also called swish).
    public func silu() -> Tensor { unary(SiLUKernel(), "silu") }
    /// Swift.max(x, 0).
    public func relu() -> Tensor { unary(ReLUKernel(), "relu") }
    /// x^p, elementwise.
    public func pow(_ exponent: Float) -> Tensor { unary(PowKernel(exponent: exponent), "pow") }
    /// -x.
    public func neg() -> Tensor { -self }
}
