/// Conversions between Float32 and the 16-bit float formats stored in weight files:
/// IEEE half precision (F16) and bfloat16 (BF16), done on bit patterns so they behave the
/// same on every platform. Float32 to 16-bit rounds to nearest, ties to even (as PyTorch).
public enum HalfPrecision {
    // MARK: - F16

    /// The Float32 value of an IEEE half-precision bit pattern (exact).
    @inline(__always)
    public static func float(fromFloat16Bits h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0 {
            // Zero or subnormal: mantissa * 2^-24, exact in Float32.
            let magnitude = Float(mantissa) * (1.0 / 16_777_216.0)
            return sign == 0 ? magnitude : -magnitude
        }
        if exponent == 0x1F {
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    }

    /// The nearest half-precision bit pattern to `value` (ties to even; overflow gives infinity).
    @inline(__always)
    public static func float16Bits(from value: Float) -> UInt16 {
        let x = value.bitPattern
        let sign = UInt16((x >> 16) & 0x8000)
        let exponent = Int((x >> 23) & 0xFF)
        let mantissa = x & 0x7F_FFFF
        if exponent == 0xFF {
            // Infinity stays infinity; NaN stays a (quiet) NaN.
            return sign | 0x7C00 | (mantissa != 0 ? 0x200 | UInt16(truncatingIfNeeded: mantissa >> 13) : 0)
        }
        let e = exponent - 127 + 15
        if e >= 31 { return sign | 0x7C00 }
        if e <= 0 {
            if e < -10 { return sign }
            let full = mantissa | 0x80_0000
            let shift = UInt32(14 - e)
            var half = full >> shift
            let remainder = full & ((1 << shift) - 1)
            let halfway: UInt32 = 1 << (shift - 1)
            if remainder > halfway || (remainder == halfway && (half & 1) == 1) { half += 1 }
            return sign | UInt16(half)
        }
        var half = UInt32(e) << 10 | (mantissa >> 13)
        let remainder = mantissa & 0x1FFF
        // A carry out of the mantissa rolls into the exponent, up to infinity: that is right.
        if remainder > 0x1000 || (remainder == 0x1000 && (half & 1) == 1) { half += 1 }
        return sign | UInt16(half)
    }

    // MARK: - BF16

    /// The Float32 value of a bfloat16 bit pattern (exact: bfloat16 is Float32's top half).
    @inline(__always)
    public static func float(fromBFloat16Bits b: UInt16) -> Float {
        Float(bitPattern: UInt32(b) << 16)
    }

    /// The nearest bfloat16 bit pattern to `value` (ties to even; NaN stays NaN).
    @inline(__always)
    public static func bfloat16Bits(from value: Float) -> UInt16 {
        let x = value.bitPattern
        if value.isNaN { return UInt16(x >> 16) | 0x40 }
        let rounded = x &+ 0x7FFF &+ ((x >> 16) & 1)
        return UInt16(rounded >> 16)
    }
}
