import Foundation
import Testing
@testable import FableTraining
@testable import FableWorkbench

@Suite("TrainingRunner: the lines around a run")
struct TrainingRunnerTests {
    let directory = RunDirectory(URL(fileURLWithPath: "/runs/small"))

    func result(_ outcome: Trainer.Outcome) -> Trainer.RunResult {
        var timing = Trainer.Timing()
        timing.training = 9
        timing.evaluation = 0.5
        timing.checkpointing = 0.25
        timing.logging = 0.25
        return Trainer.RunResult(
            outcome: outcome, step: 40, tokens: 20_480, lastTrainLoss: 3.21987,
            lastEvaluation: Trainer.Evaluation(loss: 3.5, tokens: 1024, batches: 4, isFullSplit: false),
            lastCheckpoint: URL(fileURLWithPath: "/runs/small/checkpoints/step_000040.safetensors"),
            wallSeconds: 10, timing: timing)
    }

    @Test("a finished run: steps, tokens, rate, losses, where the time went, files")
    func finished() {
        #expect(TrainingRunner.summary(result(.finished), directory: directory) == [
            "finished 40 steps (20.5K tokens) in 0:00:10, 2.05K tokens/s",
            "train loss 3.2199",
            "val loss 3.5000 (perplexity 33.12, 4 validation batches)",
            "time:   training 90.00%, evaluation 5.00%, checkpoints 2.50%, logging 2.50%",
            "checkpoint: /runs/small/checkpoints/step_000040.safetensors",
            "metrics: /runs/small/metrics.jsonl  (fable report /runs/small)",
        ])
    }

    @Test("an interrupted run says how to continue; a diverged one says why")
    func interruptedAndDiverged() {
        #expect(TrainingRunner.summary(result(.interrupted), directory: directory).first
            == "interrupted after step 40; continue with: fable train --resume /runs/small")
        #expect(TrainingRunner.summary(result(.diverged(step: 41, message: "the training loss is NaN at step 41")),
                                       directory: directory).first
            == "diverged: the training loss is NaN at step 41")
    }
}
