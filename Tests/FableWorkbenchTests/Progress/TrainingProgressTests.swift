import Foundation
import Testing
@testable import FableTraining
@testable import FableWorkbench

@Suite("TrainingProgress: a run's events on the progress display")
struct TrainingProgressTests {
    func step(_ n: Int, loss: Double) -> Trainer.StepResult {
        Trainer.StepResult(step: n, loss: loss, gradNorm: 1, learningRate: 3e-4, tokens: 1000, seconds: 0.5)
    }

    @Test("steps update the line with the smoothed loss; evaluations and checkpoints print a line each")
    func events() {
        let fake = FakeTerminal()
        let display = ProgressDisplay(total: 10, label: "train", unit: .items("steps"), style: .plain,
                                      plainInterval: 1000, plainPercentStep: 50, useUnicode: false,
                                      clock: { fake.now }, sink: { fake.written.append($0) })
        let progress = TrainingProgress(display: display, totalSteps: 10)
        progress.handle(.step(step(1, loss: 4.0)))
        #expect(fake.written.count == 1)
        #expect(fake.written[0].hasPrefix("train: 1/10 (10.0%) loss 4.000, lr 3e-4, tok/s 2.00K"))
        for n in 2...4 { fake.now += 1; progress.handle(.step(step(n, loss: 2.0))) }
        #expect(fake.written.count == 1)  // below 50%, and the interval is long
        fake.now += 1
        progress.handle(.step(step(5, loss: 2.0)))
        // 4, then three steps of 2 and one more: 0.9^4 * 4 + (1 - 0.9^4) * 2 = 3.3122.
        #expect(fake.written.last?.hasPrefix("train: 5/10 (50.0%) loss 3.312, lr 3e-4") == true)
        progress.handle(.evaluation(step: 5, Trainer.Evaluation(loss: 2.5, tokens: 64, batches: 2, isFullSplit: false)))
        #expect(fake.written.contains("step 5/10: val loss 2.5000 (perplexity 12.18, 2 batches)\n"))
        progress.handle(.checkpoint(step: 5, url: URL(fileURLWithPath: "/runs/a/checkpoints/step_000005.safetensors"),
                                    seconds: 0.25))
        #expect(fake.written.last == "step 5: saved checkpoints/step_000005.safetensors (0.25 s)\n")
        fake.now += 1
        progress.handle(.step(step(10, loss: 2.0)))
        #expect(fake.written.last?.contains("val 2.500") == true)
        progress.finish()
        #expect(fake.written.last?.hasPrefix("train: 10/10 done in 0:00:0") == true)
    }
}
