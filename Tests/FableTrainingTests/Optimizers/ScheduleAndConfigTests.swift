import Foundation
import Testing
import FableTensor
@testable import FableTraining

@Suite("Learning-rate schedules")
struct ScheduleTests {
    @Test("cosine with warmup gives CS336's values (max 1, min 0.1, Tw 7, Tc 21)")
    func cosineCS336() {
        // The values of the handout's test for get_lr_cosine_schedule; t = 14 is the midpoint
        // (0.55), t = 7 the peak and t >= 21 the floor.
        let expected: [Double] = [
            0, 0.14285714285714285, 0.2857142857142857, 0.42857142857142855, 0.5714285714285714,
            0.7142857142857143, 0.8571428571428571, 1.0, 0.9887175604818206, 0.9554359905560885,
            0.9018241671106134, 0.8305704108364301, 0.7452476826029011, 0.6501344202803414, 0.55,
            0.44986557971965857, 0.3547523173970989, 0.26942958916356996, 0.19817583288938662,
            0.14456400944391146, 0.11128243951817937, 0.1, 0.1, 0.1, 0.1,
        ]
        let schedule = CosineSchedule(maxRate: 1, minRate: 0.1, warmupSteps: 7, cosineSteps: 21)
        for (t, value) in expected.enumerated() {
            #expect(abs(schedule.learningRate(at: t) - value) < 1e-15, "t = \(t)")
        }
    }

    @Test("edge cases: no warmup, warmup equal to the cosine end")
    func edges() {
        let noWarmup = CosineSchedule(maxRate: 2, minRate: 0, warmupSteps: 0, cosineSteps: 10)
        #expect(noWarmup.learningRate(at: 0) == 2)
        #expect(abs(noWarmup.learningRate(at: 5) - 1) < 1e-15)
        let flat = CosineSchedule(maxRate: 2, minRate: 0.5, warmupSteps: 4, cosineSteps: 4)
        #expect(flat.learningRate(at: 2) == 1)
        #expect(flat.learningRate(at: 4) == 2)
        #expect(flat.learningRate(at: 5) == 0.5)
    }

    @Test("schedule config builds the cosine schedule and rejects bad values")
    func config() throws {
        let config = try JSONDecoder().decode(ScheduleConfig.self, from: Data(#"{"warmup_steps": 7, "min_lr_ratio": 0.1}"#.utf8))
        let schedule = try #require(try config.makeSchedule(maxRate: 1, totalSteps: 21) as? CosineSchedule)
        #expect(schedule == CosineSchedule(maxRate: 1, minRate: 0.1, warmupSteps: 7, cosineSteps: 21))
        var bad = config
        bad.cosineSteps = 3
        #expect(throws: OptimizerConfigError.self) { try bad.makeSchedule(maxRate: 1, totalSteps: 21) }
        bad = config
        bad.minLR = 5
        #expect(throws: OptimizerConfigError.self) { try bad.makeSchedule(maxRate: 1, totalSteps: 21) }
    }
}

@Suite("Optimizer config")
struct OptimizerConfigTests {
    /// The 17M model's parameter layout (vocab 10000, d 512, 4 layers, d_ff 1344).
    static func modelLayout(layers: Int = 4, vocab: Int = 10_000, d: Int = 512, dff: Int = 1344) -> [(name: String, shape: [Int])] {
        var layout: [(name: String, shape: [Int])] = [("token_embeddings.weight", [vocab, d])]
        for i in 0..<layers {
            for proj in ["q", "k", "v", "output"] { layout.append(("layers.\(i).attn.\(proj)_proj.weight", [d, d])) }
            layout.append(("layers.\(i).ln1.weight", [d]))
            layout.append(("layers.\(i).ffn.w1.weight", [dff, d]))
            layout.append(("layers.\(i).ffn.w2.weight", [d, dff]))
            layout.append(("layers.\(i).ffn.w3.weight", [dff, d]))
            layout.append(("layers.\(i).ln2.weight", [d]))
        }
        layout.append(("ln_final.weight", [d]))
        layout.append(("lm_head.weight", [vocab, d]))
        return layout
    }

    @Test("default routing: 2-D hidden matrices to Muon, embeddings, head and gains to AdamW")
    func routing() throws {
        let store = ParameterStore(layout: Self.modelLayout(layers: 2, vocab: 8, d: 4, dff: 6))
        var config = OptimizerConfig()
        config.kind = .muon
        let optimizer = try #require(try config.makeOptimizer(for: store) as? MuonAdamW)
        let muonNames = Set(optimizer.muon.subset.entries.map(\.name))
        let adamNames = Set(optimizer.adamw.subset.entries.map(\.name))
        #expect(muonNames.count == 14)
        #expect(adamNames == ["token_embeddings.weight", "lm_head.weight", "ln_final.weight",
                              "layers.0.ln1.weight", "layers.0.ln2.weight", "layers.1.ln1.weight", "layers.1.ln2.weight"])
        #expect(muonNames.isDisjoint(with: adamNames))
        #expect(optimizer.muonRateRatio == config.muonLR / config.lr)
    }

    @Test("JSON config: snake_case keys, defaults for missing keys, patterns with *")
    func decoding() throws {
        let json = #"{"kind": "muon", "lr": 0.003, "muon_exclude": ["token_embeddings.weight", "lm_head.weight", "layers.*.attn.*"]}"#
        let config = try JSONDecoder().decode(OptimizerConfig.self, from: Data(json.utf8))
        #expect(config.kind == .muon && config.lr == 0.003 && config.betas == [0.9, 0.95])
        #expect(!config.usesMuon(name: "layers.3.attn.q_proj.weight", shape: [4, 4]))
        #expect(config.usesMuon(name: "layers.3.ffn.w1.weight", shape: [6, 4]))
        #expect(!config.usesMuon(name: "layers.3.ffn.w1.weight", shape: [6]))
        let roundTrip = try JSONDecoder().decode(OptimizerConfig.self, from: JSONEncoder().encode(config))
        #expect(roundTrip == config)
        #expect(OptimizerConfig.matches(pattern: "*", name: "anything"))
        #expect(OptimizerConfig.matches(pattern: "a*c*e", name: "abcde"))
        #expect(!OptimizerConfig.matches(pattern: "a*c*f", name: "abcde"))
        #expect(!OptimizerConfig.matches(pattern: "lm_head", name: "lm_head.weight"))
    }

    @Test("invalid values name the key")
    func validation() {
        var config = OptimizerConfig()
        config.betas = [0.9, 1.5]
        #expect(throws: OptimizerConfigError.invalidValue(key: "betas", value: "[0.9, 1.5]", expected: "values in [0, 1)")) {
            try config.validate()
        }
        config = OptimizerConfig()
        config.eps = 0
        #expect((try? config.validate()) == nil)
        config = OptimizerConfig()
        config.kind = .muon
        config.muonNSSteps = 0
        #expect((try? config.validate()) == nil)
    }
}
