import Foundation

/// Short, human-readable renderings of numbers shared by progress lines, tables and charts.
public enum HumanFormat {
    /// `h:mm:ss` (`0:04:05`, `27:03:04`); `--:--:--` for a negative or non-finite time.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--:--:--" }
        let total = Int(seconds.rounded())
        let h = total / 3600, m = (total / 60) % 60, s = total % 60
        return "\(h):" + twoDigits(m) + ":" + twoDigits(s)
    }

    /// A count with a K/M/B/T suffix and three significant digits: `999`, `1.23K`,
    /// `45.6M`, `1.20B`. Values below 1000 are shown as they are (rounded when whole-ish).
    public static func count(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "inf" : "-inf") }
        let magnitude = abs(value)
        let suffixes: [(Double, String)] = [(1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")]
        for (scale, suffix) in suffixes where magnitude >= scale * 0.9995 {
            return significant(value / scale, digits: 3) + suffix
        }
        if magnitude >= 100 || value == value.rounded() { return String(Int(value.rounded())) }
        return significant(value, digits: 3)
    }

    /// A byte count in binary units: `512 B`, `1.50 KiB`, `12.3 MiB`, `2.00 GiB`.
    public static func bytes(_ value: Double) -> String {
        guard value.isFinite else { return "? B" }
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var scaled = value, index = 0
        while abs(scaled) >= 1023.5, index < units.count - 1 { scaled /= 1024; index += 1 }
        return (index == 0 ? String(Int(scaled.rounded())) : significant(scaled, digits: 3)) + " " + units[index]
    }

    /// A number with `digits` significant digits in plain notation, trailing zeros kept
    /// (`3.00`, `45.6`, `0.00123`).
    public static func significant(_ value: Double, digits: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "inf" : "-inf") }
        if value == 0 { return String(format: "%.\(max(0, digits - 1))f", 0.0) }
        let exponent = Int(floor(log10(abs(value))))
        var decimals = max(0, digits - 1 - exponent)
        // Rounding can carry into a new digit (9.996 -> 10.0): recompute with one fewer.
        let rounded = String(format: "%.\(decimals)f", value)
        if let r = Double(rounded), r != 0, Int(floor(log10(abs(r)))) > exponent, decimals > 0 {
            decimals -= 1
            return String(format: "%.\(decimals)f", value)
        }
        return rounded
    }

    /// A compact general number for hyperparameters and tick labels: plain when
    /// 0.001 <= |x| < 1e6 (`0.5`, `512`, `0.0015`), otherwise short scientific (`3e-4`,
    /// `1.5e-5`, `2e+7`), never more than `digits` significant digits, trailing zeros dropped.
    public static func compact(_ value: Double, digits: Int = 4) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "inf" : "-inf") }
        if value == 0 { return "0" }
        let magnitude = abs(value)
        if magnitude >= 1e-3 && magnitude < 1e6 {
            return trimZeros(significant(value, digits: digits))
        }
        return scientific(value, digits: digits)
    }

    /// Short scientific notation, trailing zeros dropped: `3e-4`, `1.5e-5`, `2e+7`, `1e+0`.
    public static func scientific(_ value: Double, digits: Int = 4) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "inf" : "-inf") }
        let text = String(format: "%.\(max(0, digits - 1))e", value)  // 3.000e-04
        guard let e = text.firstIndex(of: "e") else { return text }
        let mantissa = trimZeros(String(text[..<e]))
        var exponent = String(text[text.index(after: e)...])          // -04 / +07
        let sign = exponent.first == "-" ? "-" : "+"
        exponent = String(exponent.drop { $0 == "+" || $0 == "-" || $0 == "0" })
        return mantissa + "e" + (sign == "-" ? "-" : "+") + (exponent.isEmpty ? "0" : exponent)
    }

    /// A loss or other quantity with a fixed number of decimals (`3.2145`); `NaN`/`inf` spelled out.
    public static func fixed(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "inf" : "-inf") }
        return String(format: "%.\(decimals)f", value)
    }

    // MARK: - Helpers

    static func twoDigits(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// Drops trailing zeros after a decimal point ("2.50" gives "2.5", "3.0" gives "3").
    package static func trimZeros(_ text: String) -> String {
        guard text.contains(".") else { return text }
        var t = text
        while t.hasSuffix("0") { t.removeLast() }
        if t.hasSuffix(".") { t.removeLast() }
        return t
    }
}
