import FableModel
import FableTraining
import Foundation

/// Sizes a training run to a wall-clock budget: from a ladder of candidate configurations
/// (smallest first) and their measured seconds per optimizer step, it picks the largest
/// model that still sees enough training tokens in the time, and the number of steps that
/// fills the budget.
///
/// A bigger model learns more per token but takes longer per step, so under a fixed
/// budget it sees fewer tokens. The planner accepts a candidate when the budget buys it at
/// least ``minimumSteps`` steps, ``minimumTokens`` training tokens and
/// ``tokensPerParameter`` tokens per parameter, and chooses the largest accepted one. Step times grow along the ladder, so
/// candidates can be measured smallest first, stopping at the first one that is refused
/// (``shouldMeasureNext(after:)``).
///
/// Evaluation time is part of the budget: every periodic evaluation runs `eval_batches`
/// forward passes and the final one covers ``finalEvaluationTokens`` tokens; a forward
/// pass costs ``forwardCostRatio`` of a training step on the same batch.
///
/// ```swift
/// var planner = BudgetPlanner(budgetSeconds: 240)
/// let plan = planner.choose([(small, 0.12), (medium, 0.31)])   // seconds per step
/// ```
package struct BudgetPlanner: Sendable {
    /// One configuration the planner may choose: the model, batch size and optimizer
    /// settings (its step count is replaced by the plan's).
    package struct Candidate: Sendable, Equatable {
        /// A short label for messages ("d192 x 4").
        package var name: String
        /// The run's configuration; `steps` and `max_tokens` are ignored.
        package var config: TrainingConfig

        package init(name: String, config: TrainingConfig) {
            self.name = name
            self.config = config
        }

        /// Every parameter of the model, embeddings included.
        package var parameters: Int {
            TransformerLM.parameterLayout(for: config.model).reduce(0) { $0 + $1.shape.reduce(1, *) }
        }
    }

    /// A candidate with the number of steps that fills the budget.
    package struct Plan: Sendable, Equatable {
        /// The chosen configuration.
        package var candidate: Candidate
        /// Measured seconds per training step.
        package var secondsPerStep: Double
        /// Optimizer steps that fit in the budget (at least 1).
        package var steps: Int
        /// Estimated seconds of the whole run: training steps and evaluations.
        package var estimatedSeconds: Double

        /// Training tokens the run consumes.
        package var tokens: Int { steps * candidate.config.tokensPerStep }
        /// Training tokens per model parameter.
        package var tokensPerParameter: Double { Double(tokens) / Double(max(candidate.parameters, 1)) }

        /// The candidate's configuration with `steps` set (and `max_tokens` cleared).
        package var config: TrainingConfig {
            var config = candidate.config
            config.steps = steps
            config.maxTokens = nil
            return config
        }
    }

    // MARK: - Settings

    /// Wall-clock seconds the whole training run may take.
    package var budgetSeconds: Double
    /// The fewest optimizer steps a candidate must afford to be chosen.
    package var minimumSteps: Int
    /// The fewest training tokens a candidate must afford to be chosen (some skills, such
    /// as copying a name from earlier in the text, appear only after a number of tokens).
    package var minimumTokens: Int
    /// The fewest training tokens per parameter a candidate must afford to be chosen.
    package var tokensPerParameter: Double
    /// Periodic evaluations during the run.
    package var evaluations: Int
    /// Tokens of the final evaluation (the whole validation split); 0 for none.
    package var finalEvaluationTokens: Int
    /// The cost of a forward pass relative to a training step on the same batch.
    package var forwardCostRatio: Double
    /// How much longer a step takes over a whole run than in a short measurement (1.15 =
    /// 15% longer): a machine's speed drifts over minutes, and a median of a few steps
    /// catches a good moment. Plans divide the budget by the measured time times this.
    package var sustainedSlowdown: Double

    /// - Parameters:
    ///   - budgetSeconds: the training run's wall-clock budget.
    ///   - minimumSteps: the fewest steps a chosen candidate must afford (default 300).
    ///   - minimumTokens: the fewest training tokens (default 0).
    ///   - tokensPerParameter: the fewest tokens per parameter (default 1).
    ///   - evaluations: periodic evaluations in the run (default 8).
    ///   - finalEvaluationTokens: tokens of the final evaluation (default 0).
    ///   - forwardCostRatio: a forward pass's cost relative to a training step (default 0.35).
    ///   - sustainedSlowdown: a whole run's step time over a short measurement's (default 1).
    package init(budgetSeconds: Double, minimumSteps: Int = 300, minimumTokens: Int = 0, tokensPerParameter: Double = 1,
                evaluations: Int = 8, finalEvaluationTokens: Int = 0, forwardCostRatio: Double = 0.35,
                sustainedSlowdown: Double = 1) {
        self.budgetSeconds = budgetSeconds
        self.minimumSteps = minimumSteps
        self.minimumTokens = minimumTokens
        self.tokensPerParameter = tokensPerParameter
        self.evaluations = evaluations
        self.finalEvaluationTokens = finalEvaluationTokens
        self.forwardCostRatio = forwardCostRatio
        self.sustainedSlowdown = sustainedSlowdown
    }

    // MARK: - Planning

    /// The seconds spent evaluating, in units of training steps of `candidate`.
    package func evaluationSteps(_ candidate: Candidate) -> Double {
        let config = candidate.config
        let finalBatches = (finalEvaluationTokens + config.tokensPerStep - 1) / max(config.tokensPerStep, 1)
        return forwardCostRatio * Double(evaluations * config.evalBatches + finalBatches)
    }

    /// The most steps of `candidate` that fit in the budget at `secondsPerStep` measured
    /// (times ``sustainedSlowdown``), at least 1.
    package func plan(_ candidate: Candidate, secondsPerStep: Double) -> Plan {
        precondition(secondsPerStep > 0, "a step takes some time")
        let evaluation = evaluationSteps(candidate)
        let sustained = secondsPerStep * sustainedSlowdown
        let steps = max(1, Int((budgetSeconds / sustained - evaluation).rounded(.down)))
        return Plan(candidate: candidate, secondsPerStep: secondsPerStep, steps: steps,
                    estimatedSeconds: sustained * (Double(steps) + evaluation))
    }

    /// True when `plan` affords the minimum steps, tokens and tokens per parameter.
    package func accepts(_ plan: Plan) -> Bool {
        plan.steps >= minimumSteps && plan.tokens >= minimumTokens && plan.tokensPerParameter >= tokensPerParameter
    }

    /// Whether to measure the next, larger candidate: true while the last measured one is
    /// accepted (a larger one may be too), false once one is refused.
    package func shouldMeasureNext(after measured: Plan) -> Bool {
        accepts(measured)
    }

    /// The plan for the largest accepted candidate, or for the first (smallest) when none
    /// is accepted, so a slow machine still gets a run; nil when `measured` is empty.
    /// - Parameter measured: candidates smallest first, with their seconds per step.
    package func choose(_ measured: [(candidate: Candidate, secondsPerStep: Double)]) -> Plan? {
        let plans = measured.map { plan($0.candidate, secondsPerStep: $0.secondsPerStep) }
        return plans.last(where: accepts) ?? plans.first
    }
}

// MARK: - Measuring

extension BudgetPlanner {
    /// Measures seconds per training step of `candidate` on `train`: builds a throwaway
    /// trainer, runs `warmupSteps` untimed steps (first-touch allocations, caches) and
    /// returns the mean of `timedSteps` more without the fastest and the slowest (with
    /// three or more), so one passing spike of load does not move it while the figure
    /// still follows the average a long run sees. The weights are discarded.
    /// - Throws: ``TrainingConfigError`` when the configuration does not fit the data, or
    ///   ``TrainerError/diverged(step:reason:)``.
    package static func measureSecondsPerStep(
        _ candidate: Candidate, train: TokenDataset, warmupSteps: Int = 2, timedSteps: Int = 8
    ) throws -> Double {
        precondition(timedSteps >= 1, "time at least one step")
        var config = candidate.config
        config.steps = warmupSteps + timedSteps
        config.maxTokens = nil
        config.schedule = ScheduleConfig()
        config.schedule.kind = .constant
        let trainer = try Trainer(config: config, train: train, val: nil)
        for _ in 0..<warmupSteps { try trainer.trainStep() }
        var seconds: [Double] = []
        for _ in 0..<timedSteps { seconds.append(try trainer.trainStep().seconds) }
        seconds.sort()
        let kept = seconds.count >= 3 ? seconds.dropFirst().dropLast() : seconds[...]
        return kept.reduce(0, +) / Double(kept.count)
    }
}
