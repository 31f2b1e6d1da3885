import Foundation

/// Progress on standard error: a live line redrawn in place on a terminal, a plain line
/// every ~10% (or every few seconds when the total is unknown) otherwise.
final class ProgressLine {
    private let enabled: Bool
    private let live = isatty(STDERR_FILENO) != 0
    private var lineOpen = false
    private var lastStep = -1
    private var lastDraw = 0.0

    init(enabled: Bool) { self.enabled = enabled }

    /// Shows `text`; `fraction` (0...1) paces the plain lines when known.
    func update(_ text: String, fraction: Double?, seconds: Double) {
        guard enabled else { return }
        if live {
            guard seconds - lastDraw >= 0.1 || fraction == 1 else { return }
            lastDraw = seconds
            write("\r\(text)\u{1B}[K")
            lineOpen = true
        } else {
            let step = fraction.map { Int($0 * 10) } ?? Int(seconds / 5)
            guard step > lastStep else { return }
            lastStep = step
            write(text + "\n")
        }
    }

    /// Ends a live line so that later output starts on a fresh line.
    func finish() {
        if lineOpen { write("\n") }
        lineOpen = false
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
