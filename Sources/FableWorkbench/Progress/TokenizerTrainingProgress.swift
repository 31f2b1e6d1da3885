import FableTokenizer

/// Shows BPE training on the CLI's progress display: one line for pre-tokenization (bytes
/// read), then one for the merges. `enabled: false` (`--quiet`) shows nothing.
package final class TokenizerTrainingProgress {
    private let style: ProgressDisplay.Style
    private var pretokenizing: ProgressDisplay?
    private var merging: ProgressDisplay?

    package init(enabled: Bool) { style = enabled ? .automatic : .silent }

    package func update(_ progress: BPETrainer.Progress) {
        switch progress {
        case .pretokenizing(let done, let total):
            if pretokenizing == nil {
                pretokenizing = ProgressDisplay(total: total, label: "pre-tokenize", unit: .bytes, style: style)
            }
            pretokenizing?.update(completed: done)
        case .merging(let done, let total):
            if merging == nil {
                pretokenizing?.finish()
                merging = ProgressDisplay(total: total, label: "merge", unit: .items("merges"), style: style)
            }
            merging?.update(completed: done)
        }
    }

    package func finish() {
        pretokenizing?.finish()
        merging?.finish()
    }
}
