import FableModel
import Foundation
import Testing
import FableTestSupport
import FableTraining
@testable import FableWorkbench

@Suite("Budget planner")
struct BudgetPlannerTests {
    /// A candidate of width `d` with `batch` sequences of 8 tokens.
    static func candidate(_ d: Int, batch: Int = 4, evalBatches: Int = 2) -> BudgetPlanner.Candidate {
        let model = ModelConfig(vocabSize: 16, contextLength: 8, dModel: d, numLayers: 1, numHeads: 2)
        return BudgetPlanner.Candidate(
            name: "d\(d)", config: TrainingConfig(model: model, batchSize: batch, evalBatches: evalBatches))
    }

    @Test("the steps that fill the budget, with and without evaluation time")
    func stepsInBudget() {
        let small = Self.candidate(16)
        let bare = BudgetPlanner(budgetSeconds: 100, evaluations: 0, finalEvaluationTokens: 0)
        let plan = bare.plan(small, secondsPerStep: 0.1)
        #expect(plan.steps == 1000)
        #expect(abs(plan.estimatedSeconds - 100) < 1e-9)
        #expect(plan.tokens == 1000 * 32)
        #expect(plan.config.steps == 1000 && plan.config.maxTokens == nil)

        // 5 evaluations of 2 batches, and a final pass over 64 tokens (2 batches of 32):
        // 12 forward passes at 0.35 of a step each cost 4.2 steps.
        let evaluating = BudgetPlanner(budgetSeconds: 100, evaluations: 5, finalEvaluationTokens: 64)
        #expect(abs(evaluating.evaluationSteps(small) - 4.2) < 1e-12)
        let withEval = evaluating.plan(small, secondsPerStep: 0.1)
        #expect(withEval.steps == 995)
        #expect(withEval.estimatedSeconds <= 100)
        // A sustained slowdown of 1.25 plans 800 steps of 0.1 s measured, 0.125 s each.
        let slowing = BudgetPlanner(budgetSeconds: 100, evaluations: 0, finalEvaluationTokens: 0, sustainedSlowdown: 1.25)
        #expect(slowing.plan(small, secondsPerStep: 0.1).steps == 800)
        #expect(abs(slowing.plan(small, secondsPerStep: 0.1).estimatedSeconds - 100) < 1e-9)
        // A budget shorter than one step still plans one.
        #expect(evaluating.plan(small, secondsPerStep: 1000).steps == 1)
    }

    @Test("chooses the largest candidate that affords the minimum steps and tokens per parameter")
    func choice() throws {
        let ladder = [Self.candidate(16), Self.candidate(32), Self.candidate(64)]
        let parameters = ladder.map(\.parameters)
        #expect(parameters[0] < parameters[1] && parameters[1] < parameters[2])
        var planner = BudgetPlanner(budgetSeconds: 60, minimumSteps: 300, tokensPerParameter: 1,
                                    evaluations: 0, finalEvaluationTokens: 0)
        // 600, 400 and 200 steps: the third misses the step minimum.
        let measured = [(ladder[0], 0.1), (ladder[1], 0.15), (ladder[2], 0.3)]
            .map { (candidate: $0.0, secondsPerStep: $0.1) }
        #expect(planner.choose(measured)?.candidate.name == "d32")
        #expect(planner.shouldMeasureNext(after: planner.plan(ladder[1], secondsPerStep: 0.15)))
        #expect(!planner.shouldMeasureNext(after: planner.plan(ladder[2], secondsPerStep: 0.3)))

        // A token-per-parameter floor between d32's and d16's figures leaves d16.
        let d16Ratio = planner.plan(ladder[0], secondsPerStep: 0.1).tokensPerParameter
        let d32Ratio = planner.plan(ladder[1], secondsPerStep: 0.15).tokensPerParameter
        planner.tokensPerParameter = (d16Ratio + d32Ratio) / 2
        #expect(planner.choose(measured)?.candidate.name == "d16")

        // A token floor above d16's 600 steps x 32 tokens refuses every candidate.
        planner.tokensPerParameter = 0
        planner.minimumTokens = 400 * 32
        #expect(planner.choose(measured)?.candidate.name == "d32")
        planner.minimumTokens = 600 * 32 + 1
        #expect(planner.choose(measured).map(planner.accepts) == false)
        planner.minimumTokens = 0

        // Nothing affordable: the smallest still runs; nothing measured: no plan.
        planner.minimumSteps = 10_000
        #expect(planner.choose(measured)?.candidate.name == "d16")
        #expect(planner.choose([]) == nil)
    }

    @Test("timing a candidate runs real steps on the data")
    func measuring() throws {
        let tokens = (0..<400).map { UInt16($0 % 16) }
        let train = try TokenDataset(url: writeNpy(tokens, "planner-train.npy"))
        let seconds = try BudgetPlanner.measureSecondsPerStep(Self.candidate(16, batch: 2), train: train)
        #expect(seconds > 0 && seconds < 10)
        // A context the data cannot fill is the configuration's error, not a trap.
        var tooLong = Self.candidate(16)
        tooLong.config.model.contextLength = 1000
        #expect(throws: TrainingConfigError.self) {
            try BudgetPlanner.measureSecondsPerStep(tooLong, train: train)
        }
    }
}
