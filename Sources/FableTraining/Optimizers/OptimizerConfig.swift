import FableModel
import Foundation
import FableTensor

/// The optimizer section of a training config (JSON, snake_case keys, every key optional).
///
/// ```json
/// {"kind": "muon", "lr": 0.003, "betas": [0.9, 0.95], "eps": 1e-8, "weight_decay": 0.1,
///  "muon_lr": 0.02, "muon_momentum": 0.95, "muon_exclude": ["token_embeddings.weight", "lm_head.weight"]}
/// ```
///
/// Routing for `kind: muon`: a parameter goes to Muon when it is 2-D and no
/// `muon_exclude` pattern matches its name; everything else (embeddings, the LM head,
/// RMSNorm gains, any 1-D parameter) goes to AdamW. Patterns are names with `*` wildcards
/// (`*` matches any run of characters, dots included), e.g. `layers.*.attn.*`.
public struct OptimizerConfig: Codable, Equatable, Sendable {
    public enum Kind: String, ConfigChoice, Sendable {
        case sgd, adamw, muon
    }

    /// Which optimizer: `sgd`, `adamw`, or `muon` (Muon for hidden matrices + AdamW for the rest).
    public var kind: Kind = .adamw
    /// Peak learning rate of AdamW (and SGD); the schedule's alpha_max.
    public var lr: Double = 1e-3
    /// AdamW's (beta1, beta2).
    public var betas: [Double] = [0.9, 0.95]
    /// AdamW's epsilon, added outside the square root.
    public var eps: Double = 1e-8
    /// Decoupled weight decay (lambda), applied as p -= lr * lambda * p.
    public var weightDecay: Double = 0.1
    /// SGD's rate decay: `none` or `inverse_sqrt` (lr / sqrt(t + 1), the CS336 example).
    public var sgdDecay: SGD.Decay = .none
    /// Muon's peak learning rate; it follows the same schedule as `lr`, scaled by muon_lr / lr.
    public var muonLR: Double = 0.02
    /// Muon's momentum (beta); Nesterov when `muon_nesterov`.
    public var muonMomentum: Double = 0.95
    public var muonNesterov: Bool = true
    /// Newton-Schulz iterations per Muon step.
    public var muonNSSteps: Int = 5
    /// Muon's weight decay; defaults to `weight_decay` when absent.
    public var muonWeightDecay: Double?
    /// Name patterns of 2-D parameters that stay on AdamW.
    public var muonExclude: [String] = ["token_embeddings.weight", "lm_head.weight"]

    public init() {}

    enum CodingKeys: String, CodingKey {
        case kind, lr, betas, eps
        case weightDecay = "weight_decay"
        case sgdDecay = "sgd_decay"
        case muonLR = "muon_lr"
        case muonMomentum = "muon_momentum"
        case muonNesterov = "muon_nesterov"
        case muonNSSteps = "muon_ns_steps"
        case muonWeightDecay = "muon_weight_decay"
        case muonExclude = "muon_exclude"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = OptimizerConfig()
        kind = try c.decodeIfPresent(Kind.self, forKey: .kind) ?? d.kind
        lr = try c.decodeIfPresent(Double.self, forKey: .lr) ?? d.lr
        betas = try c.decodeIfPresent([Double].self, forKey: .betas) ?? d.betas
        eps = try c.decodeIfPresent(Double.self, forKey: .eps) ?? d.eps
        weightDecay = try c.decodeIfPresent(Double.self, forKey: .weightDecay) ?? d.weightDecay
        sgdDecay = try c.decodeIfPresent(SGD.Decay.self, forKey: .sgdDecay) ?? d.sgdDecay
        muonLR = try c.decodeIfPresent(Double.self, forKey: .muonLR) ?? d.muonLR
        muonMomentum = try c.decodeIfPresent(Double.self, forKey: .muonMomentum) ?? d.muonMomentum
        muonNesterov = try c.decodeIfPresent(Bool.self, forKey: .muonNesterov) ?? d.muonNesterov
        muonNSSteps = try c.decodeWholeNumberIfPresent(forKey: .muonNSSteps) ?? d.muonNSSteps
        muonWeightDecay = try c.decodeIfPresent(Double.self, forKey: .muonWeightDecay)
        muonExclude = try c.decodeIfPresent([String].self, forKey: .muonExclude) ?? d.muonExclude
    }

    /// Writes every key (`muon_weight_decay` as null when absent), so a run's config.json
    /// lists every setting and `--set` knows every key.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        try c.encode(lr, forKey: .lr)
        try c.encode(betas, forKey: .betas)
        try c.encode(eps, forKey: .eps)
        try c.encode(weightDecay, forKey: .weightDecay)
        try c.encode(sgdDecay, forKey: .sgdDecay)
        try c.encode(muonLR, forKey: .muonLR)
        try c.encode(muonMomentum, forKey: .muonMomentum)
        try c.encode(muonNesterov, forKey: .muonNesterov)
        try c.encode(muonNSSteps, forKey: .muonNSSteps)
        try c.encode(muonWeightDecay, forKey: .muonWeightDecay)
        try c.encode(muonExclude, forKey: .muonExclude)
    }

    // MARK: - Validation and construction

    /// Checks every value; the error names the offending key.
    public func validate() throws {
        func fail(_ key: String, _ value: Any, _ expected: String) -> OptimizerConfigError {
            .invalidValue(key: key, value: "\(value)", expected: expected)
        }
        guard lr.isFinite, lr >= 0 else { throw fail("lr", lr, "a finite number >= 0") }
        guard betas.count == 2 else { throw fail("betas", betas, "two numbers [beta1, beta2]") }
        guard betas.allSatisfy({ $0 >= 0 && $0 < 1 }) else { throw fail("betas", betas, "values in [0, 1)") }
        guard eps.isFinite, eps > 0 else { throw fail("eps", eps, "a number > 0") }
        guard weightDecay.isFinite, weightDecay >= 0 else { throw fail("weight_decay", weightDecay, "a number >= 0") }
        if kind == .muon {
            guard lr > 0 else { throw fail("lr", lr, "a number > 0 (Muon's rate is scaled by muon_lr / lr)") }
            guard muonLR.isFinite, muonLR >= 0 else { throw fail("muon_lr", muonLR, "a finite number >= 0") }
            guard muonMomentum >= 0, muonMomentum < 1 else { throw fail("muon_momentum", muonMomentum, "a value in [0, 1)") }
            guard (1...20).contains(muonNSSteps) else { throw fail("muon_ns_steps", muonNSSteps, "an integer in 1...20") }
            if let wd = muonWeightDecay, !(wd.isFinite && wd >= 0) {
                throw fail("muon_weight_decay", wd, "a number >= 0")
            }
        }
    }

    /// True when `name` (of a parameter with `shape`) is updated by Muon under this config.
    public func usesMuon(name: String, shape: [Int]) -> Bool {
        kind == .muon && shape.count == 2 && !muonExclude.contains { Self.matches(pattern: $0, name: name) }
    }

    /// The optimizer this config describes, over every parameter of `store`.
    /// - Throws: ``OptimizerConfigError`` for invalid values.
    public func makeOptimizer(for store: ParameterStore) throws -> any Optimizer {
        try makeOptimizer(for: store, entries: store.entries)
    }

    /// The optimizer over `entries` of `store` only (a rank's shard when optimizer state is
    /// sharded). SGD keeps no state and always updates the whole store.
    public func makeOptimizer(for store: ParameterStore, entries: [ParameterStore.Entry]) throws -> any Optimizer {
        try validate()
        let adamHyper = AdamW.Hyperparameters(beta1: betas[0], beta2: betas[1], eps: eps, weightDecay: weightDecay)
        switch kind {
        case .sgd:
            return SGD(store: store, decay: sgdDecay)
        case .adamw:
            return AdamW(store: store, entries: entries, hyperparameters: adamHyper)
        case .muon:
            let muonEntries = entries.filter { usesMuon(name: $0.name, shape: $0.shape) }
            let adamEntries = entries.filter { !usesMuon(name: $0.name, shape: $0.shape) }
            let muon = Muon(
                store: store, entries: muonEntries,
                hyperparameters: .init(momentum: muonMomentum, nesterov: muonNesterov,
                                       newtonSchulzSteps: muonNSSteps, weightDecay: muonWeightDecay ?? weightDecay))
            return MuonAdamW(muon: muon, adamw: AdamW(store: store, entries: adamEntries, hyperparameters: adamHyper),
                             muonRateRatio: muonLR / lr)
        }
    }

    /// Glob matching with `*` as the only wildcard.
    public static func matches(pattern: String, name: String) -> Bool {
        let p = Array(pattern.utf8), n = Array(name.utf8)
        var pi = 0, ni = 0, star = -1, mark = 0
        while ni < n.count {
            if pi < p.count, p[pi] != UInt8(ascii: "*"), p[pi] == n[ni] {
                pi += 1; ni += 1
            } else if pi < p.count, p[pi] == UInt8(ascii: "*") {
                star = pi; mark = ni; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; ni = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}

/// A config value outside its allowed range.
public enum OptimizerConfigError: Error, CustomStringConvertible, Equatable {
    case invalidValue(key: String, value: String, expected: String)

    public var description: String {
        switch self {
        case let .invalidValue(key, value, expected):
            return "optimizer config: '\(key)' is \(value), expected \(expected)"
        }
    }
}
