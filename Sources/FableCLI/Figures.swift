import Foundation

/// Number formatting and aligned plain-text tables for the CLI's reports.
enum Figures {
    /// 2127057600 -> "2,127,057,600".
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return (value < 0 ? "-" : "") + out
    }

    /// A short decimal: 80 -> "80", 2.5 -> "2.5".
    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(format: "%.3g", value)
    }

    /// 0.4567 -> "45.7%".
    static func percent(_ fraction: Double) -> String {
        fraction.isFinite ? String(format: "%.1f%%", 100 * fraction) : "-"
    }

    /// Bytes in binary units: 8.51e9 -> "7.92 GiB".
    static func bytes(_ value: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var v = value, unit = 0
        while abs(v) >= 1024 && unit < units.count - 1 { v /= 1024; unit += 1 }
        return unit == 0 ? "\(Int(v)) B" : String(format: "%.2f %@", v, units[unit])
    }

    /// Bytes in decimal units: 8.51e9 -> "8.51 GB".
    static func decimalBytes(_ value: Double) -> String {
        let units = ["B", "kB", "MB", "GB", "TB", "PB"]
        var v = value, unit = 0
        while abs(v) >= 1000 && unit < units.count - 1 { v /= 1000; unit += 1 }
        return unit == 0 ? "\(Int(v)) B" : String(format: "%.2f %@", v, units[unit])
    }

    /// FLOPs with an SI prefix: 4.51e12 -> "4.513 TFLOPs".
    static func flops(_ value: Double) -> String {
        let prefixes = ["", "K", "M", "G", "T", "P", "E"]
        var v = value, index = 0
        while abs(v) >= 1000 && index < prefixes.count - 1 { v /= 1000; index += 1 }
        return String(format: "%.4g %@FLOPs", v, prefixes[index])
    }

    /// Columns padded to their widest cell; `rightAligned` lists numeric columns.
    static func table(header: [String], rows: [[String]], rightAligned: Set<Int> = []) -> String {
        let all = [header] + rows
        let columns = all.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columns)
        for row in all { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ row: [String]) -> String {
            var cells: [String] = []
            for i in 0..<columns {
                let cell = i < row.count ? row[i] : ""
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                cells.append(rightAligned.contains(i) ? pad + cell : cell + pad)
            }
            return "  " + cells.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        let rule = "  " + widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        return ([line(header), rule] + rows.map(line)).joined(separator: "\n")
    }
}
