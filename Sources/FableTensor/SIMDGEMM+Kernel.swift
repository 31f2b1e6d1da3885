// The portable register-tile microkernel (KernelISA.swift): a 6 x 8 block of C held in six SIMD8 accumulators.
//
// Without target flags Swift compiles for baseline x86-64 (SSE2: sixteen 4-wide registers,
// no FMA instruction, where `addingProduct` becomes a call to fmaf per lane). So the kernel
// multiplies and adds separately, which on x86 keeps both the multiply and the add pipes
// busy, and reads A already broadcast (each value stored 4 times by the packing) so that a
// plain 16-byte load replaces a load-and-shuffle. Twelve accumulator registers, two for the
// row of B and one for A fit the sixteen SSE registers. On arm64, where FMA is baseline,
// the kernel fuses multiply and add.

typealias Float8 = SIMD8<Float>
typealias Float4 = SIMD4<Float>

extension SIMDGEMM {
    // MARK: - Vector helpers

    @inline(__always)
    static func load8(_ pointer: UnsafePointer<Float>) -> Float8 {
        UnsafeRawPointer(pointer).loadUnaligned(as: Float8.self)
    }

    @inline(__always)
    static func store8(_ value: Float8, _ pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: Float8.self)
    }

    /// A packed, pre-broadcast A value as a SIMD8.
    @inline(__always)
    static func broadcast(_ pointer: UnsafePointer<Float>) -> Float8 {
        let half = UnsafeRawPointer(pointer).loadUnaligned(as: Float4.self)
        return Float8(lowHalf: half, highHalf: half)
    }

    /// `accumulator + x * y`, fused where the baseline instruction set has FMA.
    @inline(__always)
    static func multiplyAdd(_ accumulator: Float8, _ x: Float8, _ y: Float8) -> Float8 {
        #if arch(arm64)
        return accumulator.addingProduct(x, y)
        #else
        return accumulator + x * y
        #endif
    }

    // MARK: - Microkernel

    /// `C[0..<6, 0..<8] = alpha * Apanel * Bsliver + beta * C` over `depth` steps.
    ///
    /// - Parameters:
    ///   - a: the packed A panel: for each step, 6 values each repeated 4 times.
    ///   - b: the packed B sliver: for each step, 8 consecutive values.
    ///   - c: the tile's top-left element; rows are `ldc` apart. Read only when beta != 0.
    @inline(never)
    static func kernel6x8(
        depth: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float
    ) {
        var c0 = Float8(), c1 = Float8(), c2 = Float8()
        var c3 = Float8(), c4 = Float8(), c5 = Float8()
        var a = a, b = b
        for _ in 0..<depth {
            let row = load8(b)
            c0 = multiplyAdd(c0, broadcast(a), row)
            c1 = multiplyAdd(c1, broadcast(a + 4), row)
            c2 = multiplyAdd(c2, broadcast(a + 8), row)
            c3 = multiplyAdd(c3, broadcast(a + 12), row)
            c4 = multiplyAdd(c4, broadcast(a + 16), row)
            c5 = multiplyAdd(c5, broadcast(a + 20), row)
            a += 24
            b += 8
        }
        let scale = Float8(repeating: alpha)
        if beta == 0 {
            store8(c0 * scale, c)
            store8(c1 * scale, c + ldc)
            store8(c2 * scale, c + 2 * ldc)
            store8(c3 * scale, c + 3 * ldc)
            store8(c4 * scale, c + 4 * ldc)
            store8(c5 * scale, c + 5 * ldc)
        } else {
            let keep = Float8(repeating: beta)
            @inline(__always) func update(_ value: Float8, _ row: UnsafeMutablePointer<Float>) {
                store8(value * scale + load8(row) * keep, row)
            }
            update(c0, c)
            update(c1, c + ldc)
            update(c2, c + 2 * ldc)
            update(c3, c + 3 * ldc)
            update(c4, c + 4 * ldc)
            update(c5, c + 5 * ldc)
        }
    }
}
