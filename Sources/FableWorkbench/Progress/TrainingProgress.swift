import FableTraining
import Foundation

/// Turns a training run's events into the CLI's progress display: the live line (smoothed
/// loss, last validation loss, learning rate, tokens per second) and a message for every
/// validation pass and checkpoint.
///
/// ```swift
/// let progress = TrainingProgress(display: ProgressDisplay(total: trainer.totalSteps, label: "train",
///                                                          unit: .items("steps")), totalSteps: trainer.totalSteps)
/// let result = try trainer.run(in: directory, onEvent: progress.handle)
/// progress.finish()
/// ```
package final class TrainingProgress {
    package let display: ProgressDisplay
    private let totalSteps: Int
    private var smoothedLoss: Double?
    private var lastValidationLoss: Double?
    private var lastStep: Trainer.StepResult?
    /// Data-parallel ranks; above 1 the line also shows them and the step's communication wait.
    private let ranks: Int

    package init(display: ProgressDisplay, totalSteps: Int, ranks: Int = 1) {
        self.display = display
        self.totalSteps = totalSteps
        self.ranks = ranks
    }

    /// Updates the display for one event of ``Trainer/run(in:shouldStop:onEvent:)``.
    package func handle(_ event: Trainer.Event) {
        switch event {
        case .step(let s):
            // An exponential moving average, so the line does not flicker with every batch.
            smoothedLoss = smoothedLoss.map { 0.9 * $0 + 0.1 * s.loss } ?? s.loss
            lastStep = s
            redraw()
        case .evaluation(let step, let e):
            lastValidationLoss = e.loss
            let scope = e.isFullSplit ? "full validation split, \(HumanFormat.count(Double(e.tokens))) tokens"
                : "\(e.batches) batches"
            display.log("step \(step)/\(totalSteps): val loss \(HumanFormat.fixed(e.loss, decimals: 4)) "
                + "(perplexity \(HumanFormat.significant(e.perplexity, digits: 4)), \(scope))")
            redraw()  // the line shows the new validation loss
        case .checkpoint(let step, let url, let seconds):
            display.log("step \(step): saved checkpoints/\(url.lastPathComponent) "
                + "(\(HumanFormat.significant(seconds, digits: 2)) s)")
        case .record:
            break
        }
    }

    private func redraw() {
        guard let s = lastStep else { return }
        var fields: [(String, String)] = [("loss", HumanFormat.fixed(smoothedLoss ?? .nan, decimals: 3))]
        if let lastValidationLoss { fields.append(("val", HumanFormat.fixed(lastValidationLoss, decimals: 3))) }
        fields.append(("lr", HumanFormat.scientific(s.learningRate, digits: 2)))
        fields.append(("tok/s", HumanFormat.count(Double(s.tokens) / max(s.seconds, 1e-9))))
        if ranks > 1 {
            fields.append(("ranks", String(ranks)))
            fields.append(("comm", HumanFormat.fixed(1000 * s.communicationSeconds, decimals: 0) + " ms"))
        }
        display.update(completed: s.step, fieldList: fields)
    }

    /// Ends the display (after the run returns or throws).
    package func finish() {
        display.finish(summary: nil)
    }
}
