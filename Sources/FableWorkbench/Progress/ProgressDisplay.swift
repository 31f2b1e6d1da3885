import FableTraining
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A progress report for any long job: training, tokenizer training, encoding, generation.
///
/// On a terminal it keeps one line up to date in place (redrawn with `\r` at most ten times
/// a second, cut to the terminal's width):
///
///     train ███████░░░░░░░░░░░░░ 1750/5000  35%  loss 3.214  tok/s 3.35K │ 0:08:41 elapsed │ ETA 0:16:08
///
/// When the output is a file or a pipe it prints plain lines instead, every
/// ``plainInterval`` seconds or every ``plainPercentStep`` percent, whichever comes first:
///
///     train: 1750/5000 (35.0%) loss 3.214, tok/s 3.35K | 3.36 steps/s | elapsed 0:08:41 | ETA 0:16:08
///
/// ```swift
/// let progress = ProgressDisplay(total: steps, label: "train", unit: .items("steps"))
/// for step in 1...steps {
///     ...
///     progress.update(completed: step, fields: ["loss": HumanFormat.fixed(loss, decimals: 3)])
/// }
/// progress.finish(summary: "final val loss 3.21")
/// ```
///
/// Thread-safe: workers may call ``update(completed:fields:)`` concurrently.
package final class ProgressDisplay: @unchecked Sendable {
    /// What is being counted, for the throughput figure.
    package enum Unit: Sendable, Equatable {
        /// Countable things named by the string ("steps", "tokens", "docs"); shown as `12.3K steps/s`.
        case items(String)
        /// Bytes; counts and rates shown in KiB/MiB/GiB.
        case bytes
    }

    /// How the display writes.
    package enum Style: Sendable, Equatable {
        /// `terminal` when the output is a terminal (and TERM is not `dumb`), otherwise `plain`.
        case automatic
        /// One line redrawn in place.
        case terminal
        /// Periodic plain lines.
        case plain
        /// Nothing at all (for `--quiet`).
        case silent
    }

    /// Where the display writes.
    package enum Output: Sendable {
        case standardError
        case standardOutput

        var descriptor: Int32 { self == .standardError ? STDERR_FILENO : STDOUT_FILENO }
    }

    /// The number of units the job will complete, or nil when unknown (no percent or ETA).
    package let total: Int?
    /// The name shown at the start of every line.
    package let label: String
    /// What is counted.
    package let unit: Unit
    /// The style in use (never ``Style/automatic`` once created).
    package let style: Style
    /// Plain style: seconds between lines.
    package let plainInterval: Double
    /// Plain style: a line is also printed each time progress passes a multiple of this percentage.
    package let plainPercentStep: Double

    private let sink: (String) -> Void
    private let clock: () -> Double
    private let widthProvider: () -> Int
    private let useUnicode: Bool
    private let lock = NSLock()

    private let startTime: Double
    private var completed = 0
    private var fields: [(String, String)] = []
    private var samples: [(time: Double, completed: Int)] = []
    private var lastDraw = -Double.infinity
    private var lastPlainTime: Double
    private var lastPlainPercentBucket = 0
    private var printedAny = false
    private var lineVisible = false
    private var finished = false

    /// Smallest time between two terminal redraws.
    static let redrawInterval = 0.1
    /// Throughput and ETA are measured over this trailing window, so they follow changes in speed.
    static let rateWindow = 30.0

    /// Creates a display writing to standard error (or standard output).
    /// - Parameters:
    ///   - total: units of work in the job; nil when unknown.
    ///   - label: a short name for the job, e.g. `train` or `encode`.
    ///   - unit: what is counted; default `.items("it")`.
    ///   - style: `.automatic` (default) picks a live line on a terminal and plain lines otherwise.
    ///   - output: `.standardError` (default) keeps standard output free for results.
    ///   - plainInterval: seconds between plain lines (default 10).
    ///   - plainPercentStep: plain lines also at every multiple of this percent (default 10).
    package convenience init(total: Int?, label: String, unit: Unit = .items("it"), style: Style = .automatic,
                            output: Output = .standardError, plainInterval: Double = 10,
                            plainPercentStep: Double = 10) {
        let fd = output.descriptor
        let isTerminal = isatty(fd) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
        let resolved: Style = style == .automatic ? (isTerminal ? .terminal : .plain) : style
        let environment = ProcessInfo.processInfo.environment
        let locale = environment["LC_ALL"] ?? environment["LC_CTYPE"] ?? environment["LANG"] ?? ""
        self.init(total: total, label: label, unit: unit, style: resolved,
                  plainInterval: plainInterval, plainPercentStep: plainPercentStep,
                  useUnicode: locale.uppercased().contains("UTF-8") || locale.uppercased().contains("UTF8"),
                  width: { ProgressDisplay.terminalWidth(fd) },
                  clock: ProgressDisplay.monotonicSeconds,
                  sink: { text in ProgressDisplay.writeAll(fd, text) })
    }

    /// Creates a display with an explicit sink and clock, for tests and for embedding in
    /// other outputs.
    /// - Parameters:
    ///   - style: `.terminal`, `.plain` or `.silent` (`.automatic` is treated as `.plain`).
    ///   - useUnicode: draw the bar with block characters rather than `#` and `-`.
    ///   - width: the terminal width in columns, asked before each redraw.
    ///   - clock: seconds on a monotonic clock.
    ///   - sink: receives the text to write.
    package init(total: Int?, label: String, unit: Unit = .items("it"), style: Style,
                plainInterval: Double = 10, plainPercentStep: Double = 10, useUnicode: Bool = true,
                width: @escaping () -> Int = { 100 }, clock: @escaping () -> Double,
                sink: @escaping (String) -> Void) {
        self.total = total.map { max(0, $0) }
        self.label = label
        self.unit = unit
        self.style = style == .automatic ? .plain : style
        self.plainInterval = plainInterval
        self.plainPercentStep = plainPercentStep
        self.useUnicode = useUnicode
        self.widthProvider = width
        self.clock = clock
        self.sink = sink
        self.startTime = clock()
        self.lastPlainTime = startTime
    }

    // MARK: - Updating

    /// Records progress and redraws when due.
    /// - Parameters:
    ///   - completed: units done so far (not an increment).
    ///   - fields: extra figures shown after the count, in order, e.g. `["loss": "3.214"]`.
    package func update(completed: Int, fields: KeyValuePairs<String, String> = [:]) {
        update(completed: completed, fieldList: fields.map { ($0.key, $0.value) })
    }

    /// Records progress and redraws when due, with fields built at run time.
    package func update(completed: Int, fieldList: [(String, String)]) {
        lock.lock(); defer { lock.unlock() }
        guard !finished else { return }
        let now = clock()
        self.completed = completed
        self.fields = fieldList
        recordSample(now)
        switch style {
        case .terminal:
            let done = total.map { completed >= $0 } ?? false
            if now - lastDraw >= ProgressDisplay.redrawInterval || done {
                drawTerminalLine(now)
            }
        case .plain, .automatic:
            let bucket = percentBucket()
            if !printedAny || now - lastPlainTime >= plainInterval || bucket > lastPlainPercentBucket {
                sink(plainLine(now) + "\n")
                printedAny = true
                lastPlainTime = now
                lastPlainPercentBucket = bucket
            }
        case .silent:
            break
        }
    }

    /// Prints a message on its own line without disturbing the progress line (which is
    /// cleared, and redrawn below the message on a terminal).
    package func log(_ message: String) {
        lock.lock(); defer { lock.unlock() }
        switch style {
        case .terminal:
            if lineVisible { sink("\r\u{1B}[K") }
            sink(message + "\n")
            if lineVisible && !finished { drawTerminalLine(clock()) }
        case .plain, .automatic:
            sink(message + "\n")
        case .silent:
            break
        }
    }

    /// Ends the display: prints the final state with the total time and the average rate,
    /// then `summary` on its own line when given. Later calls do nothing.
    package func finish(summary: String? = nil) {
        lock.lock(); defer { lock.unlock() }
        guard !finished else { return }
        finished = true
        guard style != .silent else { return }
        let now = clock()
        let elapsed = now - startTime
        let rate = elapsed > 0 ? Double(completed) / elapsed : nil
        var line = label + ": " + countText() + " done in " + HumanFormat.duration(elapsed)
        if let rate { line += " (" + rateText(rate) + ")" }
        if !fields.isEmpty { line += " · " + fields.map { "\($0.0) \($0.1)" }.joined(separator: ", ") }
        if style == .terminal { sink("\r\u{1B}[K") }
        sink(line + "\n")
        if let summary { sink(summary + "\n") }
        lineVisible = false
    }

    // MARK: - Rate and ETA

    private func recordSample(_ now: Double) {
        samples.append((now, completed))
        // Keep the trailing window, but always two samples to measure across.
        while samples.count > 2, now - samples[1].time >= ProgressDisplay.rateWindow { samples.removeFirst() }
        if samples.count > 512 { samples.removeFirst(samples.count - 512) }
    }

    /// Units per second over the trailing window, or since the start when the window is
    /// too short to measure; nil before anything can be measured.
    func currentRate(_ now: Double) -> Double? {
        if let first = samples.first, let last = samples.last, last.time - first.time >= 1,
           last.completed > first.completed {
            return Double(last.completed - first.completed) / (last.time - first.time)
        }
        let elapsed = now - startTime
        guard elapsed > 0, completed > 0 else { return nil }
        return Double(completed) / elapsed
    }

    /// Seconds left at the current rate, or nil when unknown.
    func etaSeconds(_ now: Double) -> Double? {
        guard let total, let rate = currentRate(now), rate > 0 else { return nil }
        return Double(max(0, total - completed)) / rate
    }

    private func percentBucket() -> Int {
        guard let total, total > 0, plainPercentStep > 0 else { return 0 }
        return Int((Double(completed) / Double(total) * 100 / plainPercentStep).rounded(.down))
    }

    // MARK: - Lines

    private func drawTerminalLine(_ now: Double) {
        let width = max(20, widthProvider()) - 1  // the last column would wrap on some terminals
        sink("\r" + terminalLine(now, width: width) + "\u{1B}[K")
        lastDraw = now
        lineVisible = true
    }

    /// The live line: label, bar, count, percent, fields, rate, elapsed, ETA. When it is
    /// wider than `width`, the least useful parts go first (bar, elapsed, rate, then fields
    /// from the last), so the count and ETA stay visible; only then is it cut.
    func terminalLine(_ now: Double, width: Int = .max) -> String {
        let separator = useUnicode ? " │ " : " | "
        let rate = currentRate(now).map(rateText)
        let eta = total == nil ? nil : "ETA " + (etaSeconds(now).map(HumanFormat.duration) ?? "--:--:--")
        func compose(bar: Bool, elapsed: Bool, rate showRate: Bool, fieldCount: Int) -> String {
            var parts = [label]
            if let total, total > 0 {
                let fraction = min(1, max(0, Double(completed) / Double(total)))
                if bar {
                    let cells = 20
                    let filled = Int((fraction * Double(cells)).rounded(.down))
                    let (full, empty) = useUnicode ? ("█", "░") : ("#", "-")
                    parts.append(String(repeating: full, count: filled) + String(repeating: empty, count: cells - filled))
                }
                parts.append(countText())
                parts.append(String(format: "%3.0f%%", fraction * 100))
            } else {
                parts.append(countText())
            }
            for (name, value) in fields.prefix(fieldCount) { parts.append("\(name) \(value)") }
            var line = parts.joined(separator: "  ")
            if showRate, let rate { line += separator + rate }
            if elapsed { line += separator + HumanFormat.duration(now - startTime) + " elapsed" }
            if let eta { line += separator + eta }
            return line
        }
        var candidates = [
            compose(bar: true, elapsed: true, rate: true, fieldCount: fields.count),
            compose(bar: false, elapsed: true, rate: true, fieldCount: fields.count),
            compose(bar: false, elapsed: false, rate: true, fieldCount: fields.count),
        ]
        for kept in stride(from: fields.count, through: 0, by: -1) {
            candidates.append(compose(bar: false, elapsed: false, rate: false, fieldCount: kept))
        }
        if let fitting = candidates.first(where: { $0.count <= width }) { return fitting }
        let shortest = candidates.last!
        return String(shortest.prefix(max(1, width - 1))) + "…"
    }

    /// The plain line for logs: no bar, no escape codes.
    func plainLine(_ now: Double) -> String {
        var line = label + ": " + countText()
        if let total, total > 0 {
            line += String(format: " (%.1f%%)", Double(completed) / Double(total) * 100)
        }
        if !fields.isEmpty { line += " " + fields.map { "\($0.0) \($0.1)" }.joined(separator: ", ") }
        if let rate = currentRate(now) { line += " | " + rateText(rate) }
        line += " | elapsed " + HumanFormat.duration(now - startTime)
        if total != nil { line += " | ETA " + (etaSeconds(now).map(HumanFormat.duration) ?? "--:--:--") }
        return line
    }

    private func countText() -> String {
        switch unit {
        case .bytes:
            return HumanFormat.bytes(Double(completed)) + (total.map { "/" + HumanFormat.bytes(Double($0)) } ?? "")
        case .items(let name):
            let count = total.map { "\(completed)/\($0)" } ?? "\(completed)"
            return total == nil ? count + " " + name : count
        }
    }

    private func rateText(_ rate: Double) -> String {
        switch unit {
        case .bytes: return HumanFormat.bytes(rate) + "/s"
        case .items(let name):
            return (rate < 100 ? HumanFormat.significant(rate, digits: 3) : HumanFormat.count(rate)) + " \(name)/s"
        }
    }

    // MARK: - System

    static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    static func terminalWidth(_ fd: Int32) -> Int {
        var size = winsize()
        #if os(Linux)
        let request = UInt(TIOCGWINSZ)
        #else
        let request = TIOCGWINSZ
        #endif
        if ioctl(fd, request, &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        if let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), columns > 0 {
            return columns
        }
        return 100
    }

    /// Writes text to standard error at once, unbuffered (for messages such as a Ctrl-C
    /// notice that must not wait for a progress line).
    package static func writeStandardError(_ text: String) {
        writeAll(STDERR_FILENO, text)
    }

    static func writeAll(_ fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 { if errno == EINTR { continue } else { return } }
                offset += n
            }
        }
    }
}
