import FableModel
import FableTensor
import FableTraining
import Foundation

/// The training run and how it went.
struct DemoTraining {
    let trainer: Trainer
    let plan: BudgetPlanner.Plan
    let result: Trainer.RunResult
    /// The final validation pass (the whole split when the run finished).
    let evaluation: Trainer.Evaluation?
    /// Seconds per step measured for each candidate timed.
    let measured: [(name: String, secondsPerStep: Double)]

    var record: DemoSummary.TrainingRecord {
        let outcome: String
        switch result.outcome {
        case .finished: outcome = "finished"
        case .interrupted: outcome = "interrupted"
        case .diverged: outcome = "diverged"
        }
        let config = plan.config
        return DemoSummary.TrainingRecord(
            model: plan.candidate.name, parameters: plan.candidate.parameters, steps: plan.steps,
            batchSize: config.batchSize, contextLength: config.model.contextLength, learningRate: config.optimizer.lr,
            measured: Dictionary(measured.map { ($0.name, $0.secondsPerStep) }, uniquingKeysWith: { a, _ in a }),
            outcome: outcome, stepsDone: result.step, seconds: result.wallSeconds, valLoss: evaluation?.loss,
            valBitsPerByte: nil, checkpoint: result.lastCheckpoint?.path)
    }
}

extension DemoPipeline {
    /// The shortest context any candidate uses (small validation splits shrink it).
    static let minimumContext = 32
    /// Periodic evaluations during training (the learning curve's validation points).
    static let evaluations = 8
    /// Batches each periodic evaluation averages.
    static let evalBatches = 4
    /// The fewest training tokens a model larger than the smallest must get: what the
    /// smallest needs to carry names through a story.
    static let minimumTokens = 3_000_000
    /// A whole run's step time over the planner's short measurement: on a 2-core VM the
    /// step rate drifts by 10-20% over minutes (BudgetPlanner.sustainedSlowdown).
    static let sustainedSlowdown = 1.08

    // MARK: - Candidates

    /// The model sizes the demo chooses from, smallest first, with the batch size and the
    /// learning rate that train each well in a short run.
    func candidates(vocabSize: Int, valTokens: Int, tokenizer: String) -> [BudgetPlanner.Candidate] {
        // A context the validation split can fill; 256 tokens hold most of a short story.
        var context = 256
        while context > Self.minimumContext && context + 1 > valTokens / 2 { context /= 2 }
        // Small batches and a high learning rate: on the built-in corpus d128 x 3 and x 4
        // write grammatical stories after about 1M tokens and learn to carry the hero's name
        // through a story after 2 to 2.5M (batch 8, lr 6e-3, a 1,500-2,000 step cosine).
        // Batch 16 or 32 with the same tokens, batch 4, or lr 1e-2 took longer.
        let ladder: [(dModel: Int, layers: Int, heads: Int, batch: Int, lr: Double)] = [
            (128, 3, 4, 8, 6e-3),
            (128, 4, 4, 8, 6e-3),
            (192, 4, 6, 8, 4e-3),
            (256, 4, 8, 16, 3e-3),
            (320, 5, 5, 16, 2.5e-3),
            (384, 6, 6, 16, 2e-3),
            (512, 8, 8, 32, 1.5e-3),
        ]
        return ladder.map { size in
            let model = ModelConfig(vocabSize: vocabSize, contextLength: context, dModel: size.dModel,
                                    numLayers: size.layers, numHeads: size.heads)
            var optimizer = OptimizerConfig()
            optimizer.lr = size.lr
            optimizer.betas = [0.9, 0.95]
            optimizer.weightDecay = 0.1
            var config = TrainingConfig(
                model: model, optimizer: optimizer, batchSize: size.batch, steps: 1, evalInterval: 0,
                evalBatches: Self.evalBatches, fullEval: true, checkpointInterval: 0, keepCheckpoints: 1,
                logInterval: 5, gradClip: 1.0, seed: seed, threads: threads, tokenizer: tokenizer)
            config.schedule.minLRRatio = 0.1
            return BudgetPlanner.Candidate(name: "d\(size.dModel)x\(size.layers)", config: config)
        }
    }

    // MARK: - 5. Choosing a model

    /// Times candidates smallest first (two warm-up steps and eight timed ones each) and picks
    /// the largest that trains well in `budget` seconds. A candidate whose predicted step
    /// time (the last measurement scaled by FLOPs) is already too slow is not timed.
    func chooseModel(data: DemoData, budget: Double) throws -> (BudgetPlanner.Plan, [(name: String, secondsPerStep: Double)]) {
        let planner = BudgetPlanner(budgetSeconds: budget, minimumSteps: 600, minimumTokens: Self.minimumTokens,
                                    tokensPerParameter: 1, evaluations: Self.evaluations,
                                    finalEvaluationTokens: data.val.count, sustainedSlowdown: Self.sustainedSlowdown)
        let ladder = candidates(vocabSize: data.vocabSize, valTokens: data.val.count, tokenizer: layout.tokenizer.path)
        var measured: [(candidate: BudgetPlanner.Candidate, secondsPerStep: Double)] = []
        var skipped: String?
        let (_, seconds) = try timed {
            for candidate in ladder {
                if let last = measured.last {
                    let ratio = Self.stepFLOPs(candidate) / Self.stepFLOPs(last.candidate)
                    let predicted = planner.plan(candidate, secondsPerStep: last.secondsPerStep * ratio)
                    if !planner.accepts(predicted) {
                        skipped = "\(candidate.name) would take about \(Self.seconds(predicted.secondsPerStep))/step"
                        break
                    }
                }
                let secondsPerStep = try BudgetPlanner.measureSecondsPerStep(candidate, train: data.train)
                measured.append((candidate, secondsPerStep))
                if !planner.shouldMeasureNext(after: planner.plan(candidate, secondsPerStep: secondsPerStep)) { break }
            }
        }
        guard let plan = planner.choose(measured) else {
            throw DemoError.nothingTrained(reason: "no model size could be timed")
        }
        let timings = measured.map { "\($0.candidate.name) \(Self.seconds($0.secondsPerStep))" }.joined(separator: ", ")
        printStep("model", "timed a few steps per size: \(timings) per step"
            + (skipped.map { "; \($0)" } ?? ""), seconds: seconds)
        let m = plan.candidate.config.model
        let config = plan.config
        printDetail("chose \(plan.candidate.name): \(HumanFormat.count(Double(plan.candidate.parameters))) parameters "
            + "(d_model \(m.dModel), \(m.numLayers) layers, \(m.numHeads) heads, d_ff \(m.dFF), context \(m.contextLength)); "
            + "\(Self.plural(plan.steps, "step")) of \(config.batchSize) x \(m.contextLength) tokens "
            + "= \(HumanFormat.count(Double(plan.tokens))) tokens, about \(Self.seconds(plan.estimatedSeconds))")
        if !planner.accepts(plan) {
            let wanted = Double(max(Self.minimumTokens, planner.minimumSteps * plan.candidate.config.tokensPerStep))
            let suggested = Int((minutes * wanted / Double(max(plan.tokens, 1))).rounded(.up))
            printDetail("note: in this time this machine trains the smallest model on only \(HumanFormat.count(Double(plan.tokens))) "
                + "tokens; it writes sentences after about 1M and keeps names through a story after about 3M "
                + "(try --minutes \(suggested))")
        }
        return (plan, measured.map { ($0.candidate.name, $0.secondsPerStep) })
    }

    /// FLOPs of one training step of `candidate` (to predict step times from a measured one).
    static func stepFLOPs(_ candidate: BudgetPlanner.Candidate) -> Double {
        let config = candidate.config
        return ModelAccounting(config: config.model).trainingStepFLOPs(batchSize: config.batchSize)
    }

    // MARK: - 6. Training

    /// Chooses the model and trains it into DIR/run with a live progress line. Ctrl-C
    /// stops after the current step with a checkpoint; so does running far over budget.
    func train(data: DemoData, budget: Double) throws -> DemoTraining {
        let interrupt = InterruptSignal {
            ProgressDisplay.writeStandardError("\nCtrl-C: stopping after this step and saving a checkpoint; the report "
                + "and stories follow (press Ctrl-C again to quit at once)\n")
        }
        defer { interrupt.cancel() }
        let (chosen, measured) = try chooseModel(data: data, budget: budget)
        var plan = chosen
        var config = plan.config
        config.evalInterval = max(1, (plan.steps + Self.evaluations - 1) / Self.evaluations)
        config.logInterval = max(1, min(10, plan.steps / 100))
        config.schedule.warmupSteps = max(1, plan.steps / 20)
        plan.candidate.config = config

        let directory = RunDirectory(layout.run)
        let trainer = try Trainer(config: config, train: data.train, val: data.val)
        printStep("training", "AdamW lr \(HumanFormat.compact(config.optimizer.lr)), warmup \(Self.plural(config.schedule.warmupSteps, "step")),"
            + " cosine to \(HumanFormat.compact(config.optimizer.lr * config.schedule.minLRRatio)); "
            + "-> \(layout.display(layout.run))/ (Ctrl-C stops with a checkpoint)")

        let progress = TrainingProgress(
            display: ProgressDisplay(total: trainer.totalSteps, label: "train", unit: .items("steps")),
            totalSteps: trainer.totalSteps)
        let start = clock.now
        // The run stops by itself when the machine turns out much slower than measured.
        let hardLimit = budget * 1.1 + 5
        var overBudget = false
        let result: Trainer.RunResult
        do {
            defer { progress.finish() }
            result = try trainer.run(in: directory, shouldStop: {
                if interrupt.isRaised { return true }
                if elapsed(since: start) > hardLimit { overBudget = true; return true }
                return false
            }, onEvent: progress.handle)
        }
        if overBudget {
            printDetail("stopped at step \(result.step) of \(trainer.totalSteps): the run went past its time budget "
                + "(the machine got slower than when the steps were timed)")
        }
        var evaluation = result.lastEvaluation
        if case .diverged(_, let message) = result.outcome {
            printDetail("training diverged: \(message)")
        } else if evaluation == nil || result.outcome == .interrupted {
            // Nothing or only a periodic pass evaluated yet: measure what exists.
            evaluation = try trainer.evaluate()
        }
        let rate = result.wallSeconds > 0 ? Double(result.tokens) / result.wallSeconds : 0
        printStep("trained", "\(Self.plural(result.step, "step")), \(HumanFormat.count(Double(result.tokens))) tokens in "
            + "\(HumanFormat.duration(result.wallSeconds)) (\(HumanFormat.count(rate)) tokens/s)"
            + (result.lastCheckpoint.map { "; checkpoint \(layout.display($0))" } ?? ""))
        return DemoTraining(trainer: trainer, plan: plan, result: result, evaluation: evaluation, measured: measured)
    }
}
