import FableTensor
import FableTestSupport
import Foundation
import Testing

/// One golden case written by `Scripts/reference/model_reference.py`: `<name>.json`
/// (configuration, integer inputs, loss) and `<name>.safetensors` (weights, inputs,
/// expected outputs and gradients, Float32).
struct GoldenFixture {
    let name: String
    let meta: [String: Any]
    let file: SafeTensorsFile

    init(_ name: String) throws {
        self.name = name
        let json = try Data(contentsOf: TestData.fixture("model/\(name).json"))
        meta = try JSONSerialization.jsonObject(with: json) as! [String: Any]
        file = try SafeTensorsFile(contentsOf: TestData.fixture("model/\(name).safetensors"))
    }

    func ints(_ key: String) -> [Int] { (meta[key] as! [NSNumber]).map(\.intValue) }
    func int(_ key: String) -> Int { (meta[key] as! NSNumber).intValue }
    func double(_ key: String) -> Double { (meta[key] as! NSNumber).doubleValue }

    /// A stored tensor as a Fable tensor.
    func tensor(_ key: String, requiresGrad: Bool = false) throws -> Tensor {
        let info = try file.info(named: key)
        return Tensor(shape: info.shape, data: try file.floats(named: key), requiresGrad: requiresGrad)
    }

    /// The module's own weights: every tensor that is not an input, output or gradient.
    var weightNames: [String] {
        file.names.filter { !$0.hasPrefix("grad.") && !["input", "output", "grad_output"].contains($0) }.sorted()
    }

    /// A parameter store holding the module's weights under their fixture names.
    func parameterStore() throws -> ParameterStore {
        let layout = try weightNames.map { (name: $0, shape: try file.info(named: $0).shape) }
        let store = ParameterStore(layout: layout)
        for entry in store.entries {
            try file.readFloats(named: entry.name, into: store.values(of: entry))
        }
        return store
    }
}

/// Checks `actual` against `expected` two ways:
/// - elementwise, |a - e| ≤ tolerance · max(|e|, 0.01 · max|E|): relative error for every
///   element down to a hundredth of the largest, then an absolute floor, because Float32
///   sums of large terms cannot resolve tiny entries to 1e-4 of themselves;
/// - as a whole, ‖a - e‖ / ‖e‖ ≤ tolerance / 10.
/// Records one issue naming the worst element.
func expectClose(
    _ actual: [Float], _ expected: [Float], _ what: String, tolerance: Float = 1e-4,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard actual.count == expected.count else {
        Issue.record("\(what): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
        return
    }
    let scale = expected.reduce(0) { max($0, abs($1)) }
    let floor = 1e-2 * scale
    var worst: (index: Int, ratio: Float) = (0, 0)
    var diffSquares: Double = 0, normSquares: Double = 0
    for i in 0..<actual.count {
        guard actual[i].isFinite else { worst = (i, .infinity); break }
        let diff = abs(actual[i] - expected[i])
        let ratio = diff / max(abs(expected[i]), floor, .leastNormalMagnitude)
        if ratio > worst.ratio { worst = (i, ratio) }
        diffSquares += Double(diff) * Double(diff)
        normSquares += Double(expected[i]) * Double(expected[i])
    }
    #expect(
        worst.ratio <= tolerance,
        "\(what): element \(worst.index) is \(actual[worst.index]), expected \(expected[worst.index]) (relative error \(worst.ratio))",
        sourceLocation: sourceLocation)
    let normError = normSquares > 0 ? (diffSquares / normSquares).squareRoot() : diffSquares.squareRoot()
    #expect(
        normError <= Double(tolerance) / 10,
        "\(what): relative error of the whole tensor \(normError)", sourceLocation: sourceLocation)
}
