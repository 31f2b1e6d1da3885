import FableModel
import Foundation

/// A learning rate as a function of the step (0-based: the rate for step t's update).
public protocol LearningRateSchedule: Sendable {
    func learningRate(at step: Int) -> Double
}

/// The same rate at every step.
public struct ConstantSchedule: LearningRateSchedule, Equatable {
    public let rate: Double
    public init(rate: Double) { self.rate = rate }
    public func learningRate(at step: Int) -> Double { rate }
}

/// CS336's cosine schedule with linear warmup:
///
/// ```
/// t < Tw:        α_t = t / Tw · α_max
/// Tw ≤ t ≤ Tc:   α_t = α_min + ½(1 + cos((t − Tw)/(Tc − Tw) · π)) (α_max − α_min)
/// t > Tc:        α_t = α_min
/// ```
public struct CosineSchedule: LearningRateSchedule, Equatable {
    /// α_max, reached at the end of warmup.
    public let maxRate: Double
    /// α_min, reached at `cosineSteps` and kept after.
    public let minRate: Double
    /// T_w: steps of linear warmup from 0.
    public let warmupSteps: Int
    /// T_c: the step at which the cosine reaches α_min (counted from 0, including warmup).
    public let cosineSteps: Int

    public init(maxRate: Double, minRate: Double, warmupSteps: Int, cosineSteps: Int) {
        self.maxRate = maxRate
        self.minRate = minRate
        self.warmupSteps = warmupSteps
        self.cosineSteps = cosineSteps
    }

    public func learningRate(at step: Int) -> Double {
        if step < warmupSteps {
            return Double(step) / Double(warmupSteps) * maxRate
        }
        if step <= cosineSteps {
            // Tc == Tw would divide by zero: the cosine phase is then the single point α_max.
            guard cosineSteps > warmupSteps else { return maxRate }
            let progress = Double(step - warmupSteps) / Double(cosineSteps - warmupSteps)
            return minRate + 0.5 * (1 + cos(progress * Double.pi)) * (maxRate - minRate)
        }
        return minRate
    }
}

/// The schedule section of a training config (JSON, snake_case, every key optional).
///
/// `{"kind": "cosine", "warmup_steps": 200, "cosine_steps": 5000, "min_lr_ratio": 0.1}`
/// gives a ``CosineSchedule`` from the optimizer's `lr` down to `lr * min_lr_ratio`
/// (or to `min_lr` when that is given).
public struct ScheduleConfig: Codable, Equatable, Sendable {
    public enum Kind: String, ConfigChoice, Sendable { case constant, cosine }

    public var kind: Kind = .cosine
    /// T_w.
    public var warmupSteps: Int = 0
    /// T_c; defaults to the run's total steps when nil.
    public var cosineSteps: Int?
    /// α_min as a fraction of α_max (used when `min_lr` is absent).
    public var minLRRatio: Double = 0.1
    /// α_min as an absolute rate.
    public var minLR: Double?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case kind
        case warmupSteps = "warmup_steps"
        case cosineSteps = "cosine_steps"
        case minLRRatio = "min_lr_ratio"
        case minLR = "min_lr"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ScheduleConfig()
        kind = try c.decodeIfPresent(Kind.self, forKey: .kind) ?? d.kind
        warmupSteps = try c.decodeWholeNumberIfPresent(forKey: .warmupSteps) ?? d.warmupSteps
        cosineSteps = try c.decodeWholeNumberIfPresent(forKey: .cosineSteps)
        minLRRatio = try c.decodeIfPresent(Double.self, forKey: .minLRRatio) ?? d.minLRRatio
        minLR = try c.decodeIfPresent(Double.self, forKey: .minLR)
    }

    /// Writes every key (`cosine_steps` and `min_lr` as null when absent), so a run's
    /// config.json lists every setting and `--set` knows every key.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        try c.encode(warmupSteps, forKey: .warmupSteps)
        try c.encode(cosineSteps, forKey: .cosineSteps)
        try c.encode(minLRRatio, forKey: .minLRRatio)
        try c.encode(minLR, forKey: .minLR)
    }

    /// The schedule for a run of `totalSteps` with peak rate `maxRate`.
    /// - Throws: ``OptimizerConfigError`` naming the offending key.
    public func makeSchedule(maxRate: Double, totalSteps: Int) throws -> any LearningRateSchedule {
        switch kind {
        case .constant:
            return ConstantSchedule(rate: maxRate)
        case .cosine:
            let cosine = cosineSteps ?? totalSteps
            guard warmupSteps >= 0 else {
                throw OptimizerConfigError.invalidValue(key: "warmup_steps", value: "\(warmupSteps)", expected: "an integer >= 0")
            }
            guard cosine >= warmupSteps else {
                throw OptimizerConfigError.invalidValue(
                    key: "cosine_steps", value: "\(cosine)", expected: "at least warmup_steps (\(warmupSteps))")
            }
            let minimum = minLR ?? maxRate * minLRRatio
            guard minimum.isFinite, minimum >= 0, minimum <= maxRate else {
                throw OptimizerConfigError.invalidValue(
                    key: minLR == nil ? "min_lr_ratio" : "min_lr", value: "\(minLR ?? minLRRatio)",
                    expected: "a minimum rate between 0 and lr (\(maxRate))")
            }
            return CosineSchedule(maxRate: maxRate, minRate: minimum, warmupSteps: warmupSteps, cosineSteps: cosine)
        }
    }
}
