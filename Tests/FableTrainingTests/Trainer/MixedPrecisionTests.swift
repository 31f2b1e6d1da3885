import FableFormats
import FableTensor
import Foundation
import Testing
@testable import FableTraining

@Suite("Mixed precision (precision: bf16)")
struct MixedPrecisionTests {
    @Test("the precision key: fp32 by default, bf16 by --set, recorded in config.json, other words refused")
    func configKey() throws {
        let plain = try tinyConfig()
        #expect(plain.precision == .fp32)
        // A config.json from before the key existed reads as fp32.
        let old = try TrainingConfig.resolve(
            JSONValue.parse(#"{"model": "tinystories-17m", "steps": 10}"#), source: "old.json", overrides: [])
        #expect(old.precision == .fp32)
        #expect(String(decoding: plain.jsonData(), as: UTF8.self).contains(#""precision" : "fp32""#))
        do {
            _ = try tinyConfig("precision=fp16")
            Issue.record("precision=fp16 accepted")
        } catch let error as TrainingConfigError {
            #expect(error.underlying == .invalidValue(key: "precision", value: "\"fp16\"", expected: "one of fp32, bf16"))
        }
    }

    @Test("a CPU without AVX512_BF16 refuses bf16, naming the key and the missing feature")
    func refusedWithoutTheFeature() throws {
        var config = try tinyConfig()
        config.precision = .bf16
        let reason = "this CPU lacks AVX512_BF16 (vdpbf16ps; found: avx2+fma)"
        #expect(throws: TrainingConfigError.invalidValue(
            key: "precision", value: "\"bf16\"",
            expected: "a precision this machine runs: \(reason); use \"fp32\" (--set precision=fp32)")) {
            try config.checkPrecision(unavailableReason: reason)
        }
        try config.checkPrecision(unavailableReason: nil)
        // On this machine validation agrees with the CPU check.
        if let missing = MatmulPrecision.bf16.unavailableReason {
            #expect(throws: TrainingConfigError.self) { try config.validate() }
            #expect(missing.contains("AVX512_BF16") || missing.contains("AVX-512"))
        } else {
            try config.validate()
        }
    }

    @Test("a tiny model trained in bf16 follows the fp32 run closely, but not bit for bit",
          .enabled(if: MatmulPrecision.bf16.unavailableReason == nil))
    func bf16TracksFP32() throws {
        let train = try patternDataset("bf16-train.npy"), val = try patternDataset("bf16-val.npy", count: 400, seed: 6)
        func run(_ precision: String) throws -> (losses: [Double], eval: Double, trainer: Trainer) {
            let config = try tinyConfig("steps=40", "eval_interval=0", "optimizer.lr=0.02", "precision=\(precision)")
            let trainer = try Trainer(config: config, train: train, val: val)
            var losses: [Double] = []
            for _ in 0..<40 { losses.append(try trainer.trainStep().loss) }
            return (losses, try #require(try trainer.evaluate()).loss, trainer)
        }
        let full = try run("fp32"), half = try run("bf16")
        // Same weights and batch at step 1: the loss differs only by bf16 rounding in the products.
        let first: (Double, Double) = (half.losses[0], full.losses[0])
        #expect(abs(first.0 - first.1) < 0.01 * first.1, "\(first.0) vs \(first.1)")
        #expect(half.losses[0] != full.losses[0])
        // Both learn, and end within a few percent of each other.
        let early: Double = half.losses.prefix(5).reduce(0, +) / 5
        let late: Double = half.losses.suffix(5).reduce(0, +) / 5
        #expect(late < early - 0.4, "first \(early), last \(late)")
        let evals: (Double, Double) = (half.eval, full.eval)
        #expect(abs(evals.0 - evals.1) < 0.05 * evals.1, "val \(evals.0) vs \(evals.1)")
        // Master weights stay fp32 and differ from the fp32 run only slightly.
        let a = Array(half.trainer.model.parameters.values), b = Array(full.trainer.model.parameters.values)
        #expect(a != b)
        #expect(half.trainer.config.jsonText.contains(#""precision":"bf16""#))
    }
}
