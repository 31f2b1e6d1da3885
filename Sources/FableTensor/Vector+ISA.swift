import FableKernels

// The elementwise loops with AVX-512 or AVX2 versions in FableKernels (16 or 8 lanes, fused
// multiply-adds), chosen by ``KernelISA/active``; `.swift` runs the portable eight-lane Swift
// code. The C versions use the same exp polynomial, so results differ from the Swift ones
// only by the rounding of fused versus separate multiply-adds (a few ulp).

extension Vector {
    /// `out[i] = exp(x[i])` (0 below -87.3; out may alias x).
    public static func exp(
        _ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int, isa: KernelISA = .active
    ) {
        switch isa {
        case .avx512: fable_exp_avx512(x, out, count)
        case .avx2: fable_exp_avx2(x, out, count)
        case .swift:
            var i = 0
            while i + 8 <= count { store(exp(load(x + i)), out + i); i += 8 }
            while i < count { out[i] = exp(x[i]); i += 1 }
        }
    }

    /// `out[i] = x[i] * sigmoid(x[i])` (SiLU; out may alias x).
    public static func silu(
        _ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int, isa: KernelISA = .active
    ) {
        switch isa {
        case .avx512: fable_silu_avx512(x, out, count)
        case .avx2: fable_silu_avx2(x, out, count)
        case .swift:
            var i = 0
            while i + 8 <= count { let v = load(x + i); store(v * sigmoid(v), out + i); i += 8 }
            while i < count { let v = V(repeating: x[i]); out[i] = (v * sigmoid(v))[0]; i += 1 }
        }
    }

    /// `out[i] = silu(gate[i]) * up[i]`, storing `sigmoid(gate[i])` to `sigmoid` when given
    /// (the SwiGLU gate and what its backward pass needs).
    public static func swiGLU(
        gate: UnsafePointer<Float>, up: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
        sigmoid saved: UnsafeMutablePointer<Float>?, count: Int, isa: KernelISA = .active
    ) {
        switch isa {
        case .avx512: fable_swiglu_avx512(gate, up, out, saved, count)
        case .avx2: fable_swiglu_avx2(gate, up, out, saved, count)
        case .swift:
            var i = 0
            while i + 8 <= count {
                let x = load(gate + i), s = sigmoid(x)
                if let saved { store(s, saved + i) }
                store(x * s * load(up + i), out + i)
                i += 8
            }
            while i < count {
                let x = gate[i], s = sigmoid(V(repeating: x))[0]
                saved?[i] = s
                out[i] = x * s * up[i]
                i += 1
            }
        }
    }

    /// The wide versions of ``expShifted(_:shift:into:count:)``, ``sumExpShifted(_:shift:count:)``
    /// and ``max(_:count:)``, or nil for `.swift` (then the caller's Swift loop runs).
    @inline(__always)
    static func wideExpShifted(
        _ x: UnsafePointer<Float>, shift: Float, into out: UnsafeMutablePointer<Float>?, count: Int, isa: KernelISA
    ) -> Float? {
        switch isa {
        case .avx512: return fable_exp_shifted_avx512(x, out, count, shift)
        case .avx2: return fable_exp_shifted_avx2(x, out, count, shift)
        case .swift: return nil
        }
    }

    @inline(__always)
    static func wideMax(_ x: UnsafePointer<Float>, count: Int, isa: KernelISA) -> Float? {
        switch isa {
        case .avx512: return fable_max_avx512(x, count)
        case .avx2: return fable_max_avx2(x, count)
        case .swift: return nil
        }
    }
}
