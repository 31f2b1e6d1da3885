#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SIMD building blocks for the kernels: contiguous loops over raw pointers, eight lanes
/// at a time with a scalar tail, and a vectorised `exp`. Softmax's loops (`max`,
/// `expShifted`, `sumExpShifted`) run 16 or 8 lanes wide in FableKernels where the CPU
/// allows (`Vector+ISA.swift`).
///
/// Reductions (`sum`, `dot`, `max`) accumulate into eight lanes and combine the lanes in
/// a fixed order, so the result depends only on the input, never on timing.
public enum Vector {
    public typealias V = SIMD8<Float>

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> V {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    @inline(__always) static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }

    /// Lane-wise maximum as a compare and blend (the standard library's `pointwiseMax`
    /// is not inlined for SIMD8 and runs lane by lane).
    @inline(__always) public static func maximum(_ a: V, _ b: V) -> V { a.replacing(with: b, where: a .< b) }

    /// Lane-wise minimum as a compare and blend.
    @inline(__always) public static func minimum(_ a: V, _ b: V) -> V { a.replacing(with: b, where: b .< a) }

    // MARK: - exp

    /// e^x for eight lanes: x = n ln2 + r with |r| <= ln2/2 (Cody–Waite), then
    /// 2^n (1 + poly(r)) with the degree-5 polynomial of Arm's optimized-routines `v_expf`
    /// (about 1.5 ulp; the tests check it against libm). Inputs below -87.3 give 0, above
    /// 88.37 are clamped there (above it 2^n would overflow and the result be NaN).
    @_transparent  // always inlined: a call per eight lanes costs more than the lanes
    public static func exp(_ x: V) -> V {
        expClamped(x).replacing(with: 0, where: x .< -87.3)
    }

    /// e^x for eight lanes with the input clamped to [-87.3, 88.37] (so never 0 or ∞);
    /// enough where the result only feeds 1 / (1 + e), as in sigmoid.
    @_transparent
    public static func expClamped(_ x: V) -> V {
        let clamped = maximum(minimum(x, V(repeating: 88.37)), V(repeating: -87.3))
        // n = round(x / ln 2) via the 1.5 * 2^23 trick (no SSE4.1 rounding needed).
        let shifted = clamped * 1.442_695_040_888_963_4 + 12_582_912.0
        let n = shifted - 12_582_912.0
        let r = clamped - n * 0x1.62E4p-1 - n * 0x1.7F7D1Cp-20
        let r2 = r * r
        let p = V(repeating: 0x1.0E4020p-7) * r + 0x1.573E2Ep-5
        let q = V(repeating: 0x1.555E66p-3) * r + 0x1.FFFDB6p-2 + p * r2
        let poly = r * 0x1.FFFFECp-1 + q * r2
        let bits = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
        let scale = unsafeBitCast((bits &+ 127) &<< 23, to: V.self)
        return scale + poly * scale
    }

    /// 1 / (1 + e^-x) for eight lanes.
    @_transparent
    public static func sigmoid(_ x: V) -> V {
        1 / (1 + expClamped(-x))
    }

    /// e^x for one value, with the same polynomial as the vector version.
    @inline(__always)
    public static func exp(_ x: Float) -> Float {
        exp(V(repeating: x))[0]
    }

    // MARK: - Elementwise loops

    /// `out[i] = a[i] + b[i]` (out may alias a or b).
    public static func add(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int
    ) {
        var i = 0
        while i + 8 <= count { store(load(a + i) + load(b + i), out + i); i += 8 }
        while i < count { out[i] = a[i] + b[i]; i += 1 }
    }

    /// `out[i] += alpha * x[i]`.
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count { store(load(out + i) + alpha * load(x + i), out + i); i += 8 }
        while i < count { out[i] += alpha * x[i]; i += 1 }
    }

    /// `out[i] = alpha * x[i]` (overwrite) or `out[i] += alpha * x[i]` (accumulate).
    @inline(__always)
    public static func scale(
        _ alpha: Float, _ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int, accumulate: Bool
    ) {
        if accumulate { axpy(alpha, x, out, count: count); return }
        var i = 0
        while i + 8 <= count { store(alpha * load(x + i), out + i); i += 8 }
        while i < count { out[i] = alpha * x[i]; i += 1 }
    }

    // MARK: - Reductions

    /// The sum of `count` values, in eight lanes combined in a fixed order.
    public static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var acc = V(), i = 0
        while i + 8 <= count { acc += load(x + i); i += 8 }
        var s = acc.sum()
        while i < count { s += x[i]; i += 1 }
        return s
    }

    /// The dot product of two vectors.
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var acc = V(), i = 0
        while i + 8 <= count { acc += load(a + i) * load(b + i); i += 8 }
        var s = acc.sum()
        while i < count { s += a[i] * b[i]; i += 1 }
        return s
    }

    /// The largest of `count > 0` values (NaN-free inputs assumed).
    public static func max(_ x: UnsafePointer<Float>, count: Int, isa: KernelISA = .active) -> Float {
        if count > 0, let wide = wideMax(x, count: count, isa: isa) { return wide }
        var m = -Float.infinity, i = 0
        if count >= 8 {
            var acc = load(x)
            i = 8
            while i + 8 <= count { acc = maximum(acc, load(x + i)); i += 8 }
            m = acc.max()
        }
        while i < count { m = Swift.max(m, x[i]); i += 1 }
        return m
    }

    /// Writes `exp(x[i] - shift)` to `out` and returns their sum (out may alias x).
    public static func expShifted(
        _ x: UnsafePointer<Float>, shift: Float, into out: UnsafeMutablePointer<Float>, count: Int,
        isa: KernelISA = .active
    ) -> Float {
        if let wide = wideExpShifted(x, shift: shift, into: out, count: count, isa: isa) { return wide }
        var acc = V(), i = 0
        let s = V(repeating: shift)
        while i + 8 <= count {
            let e = exp(load(x + i) - s)
            store(e, out + i)
            acc += e
            i += 8
        }
        var total = acc.sum()
        while i < count { let e = exp(x[i] - shift); out[i] = e; total += e; i += 1 }
        return total
    }

    /// The sum of `exp(x[i] - shift)` without storing the terms.
    public static func sumExpShifted(
        _ x: UnsafePointer<Float>, shift: Float, count: Int, isa: KernelISA = .active
    ) -> Float {
        if let wide = wideExpShifted(x, shift: shift, into: nil, count: count, isa: isa) { return wide }
        var acc = V(), i = 0
        let s = V(repeating: shift)
        while i + 8 <= count { acc += exp(load(x + i) - s); i += 8 }
        var total = acc.sum()
        while i < count { total += exp(x[i] - shift); i += 1 }
        return total
    }
}

// MARK: - Scalar libm

@inline(__always) func libmLog(_ x: Float) -> Float { logf(x) }
@inline(__always) func libmSqrt(_ x: Float) -> Float { x.squareRoot() }
@inline(__always) func libmCos(_ x: Double) -> Double { cos(x) }
@inline(__always) func libmSin(_ x: Double) -> Double { sin(x) }
@inline(__always) func libmPow(_ x: Float, _ y: Float) -> Float { powf(x, y) }
@inline(__always) func libmPow(_ x: Double, _ y: Double) -> Double { pow(x, y) }
