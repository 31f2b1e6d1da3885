import FableTensor
import FableTestSupport
import Foundation
import Testing
@testable import FableModel

/// The whole LM against PyTorch: weights loaded from a file PyTorch wrote with
/// `safetensors.torch.save_file(model.state_dict())`, then logits, the mean cross-entropy
/// and the gradient of every parameter.
@Suite("TransformerLM vs PyTorch")
struct TransformerLMGoldenTests {
    static let cases = [
        "lm",              // (2, 16): full context, batch of two
        "lm_truncated",    // (3, 9): shorter than the context
        "lm_unbatched",    // (5): no batch axis, explicit positions 11..<16
        "lm_no_norm", "lm_post_norm", "lm_nope", "lm_silu", "lm_tied",
    ]

    static func model(for fixture: GoldenFixture) throws -> TransformerLM {
        let configJSON = try JSONSerialization.data(withJSONObject: fixture.meta["config"]!)
        let config = try ModelConfig.decode(configJSON, source: fixture.name)
        let model = try TransformerLM(config: config, seed: 99)
        try model.loadWeights(from: TestData.fixture("model/" + (fixture.meta["weights"] as! String)))
        return model
    }

    @Test("logits, loss and every parameter gradient", arguments: cases)
    func goldenCase(name: String) throws {
        let f = try GoldenFixture(name)
        let model = try Self.model(for: f)
        let shape = f.ints("input_shape")
        let positions = f.meta["token_positions"] == nil ? nil : f.ints("token_positions")
        // Int32 ids, as a dataset would hand them over.
        let tokens = f.ints("token_ids").map(Int32.init)

        let logits = try withNoGrad { try model.forward(tokens: tokens, shape: shape, positions: positions) }
        #expect(logits.shape == f.ints("output_shape"))
        expectClose(logits.toArray(), try f.file.floats(named: "output"), "\(name) logits")

        let loss = try model.loss(tokens: tokens, targets: f.ints("targets"), shape: shape, positions: positions)
        #expect(abs(Double(loss.item()) - f.double("loss")) <= 1e-5 * f.double("loss"), "\(name) loss")
        model.parameters.zeroGradients()
        loss.backward()
        let names = (f.meta["parameter_names"] as! [String])
        #expect(model.parameters.entries.map(\.name) == names, "\(name) parameter names and order")
        for entry in model.parameters.entries {
            expectClose(
                Array(model.parameters.gradients(of: entry)), try f.file.floats(named: "grad." + entry.name),
                "\(name) gradient of \(entry.name)")
        }
    }

    @Test("a batch gives each row the logits it gets alone")
    func batchRowsAreIndependent() throws {
        let f = try GoldenFixture("lm_truncated")
        let model = try Self.model(for: f)
        let ids = f.ints("token_ids"), shape = f.ints("input_shape")
        let t = shape[1]
        let batched = try withNoGrad { try model.forward(tokens: ids, shape: shape) }.toArray()
        let row = try withNoGrad { try model.forward(tokens: ids[t..<(2 * t)], shape: [t]) }.toArray()
        expectClose(row, Array(batched[(t * 64)..<(2 * t * 64)]), "second row alone")
    }
}
