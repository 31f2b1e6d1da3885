import FableInterchange
import FableModel
import FableTensor
import FableTokenizer
import Foundation

/// A fresh empty folder under the system's temporary directory.
func temporaryFolder(_ name: String = "interchange") throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("fable-\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The 256 bytes, two merges ("h"+"e", " "+"t") and `<|endoftext|>` (id 258).
func tinyVocabulary() -> Vocabulary {
    let tokens = (0..<256).map { [UInt8($0)] } + [Array("he".utf8), Array(" t".utf8)]
    return Vocabulary(tokens: tokens, merges: [(Array("h".utf8), Array("e".utf8)), (Array(" ".utf8), Array("t".utf8))],
                      specialTokens: ["<|endoftext|>"]).addingMissingSpecialTokens()
}

/// A small seeded model whose vocabulary fits ``tinyVocabulary()``.
func tinyModel(tied: Bool = false, theta: Double = 10_000, norm: ModelConfig.Norm = .pre,
               position: ModelConfig.Position = .rope, ffn: ModelConfig.FeedForward = .swiglu, seed: UInt64 = 7) throws -> TransformerLM {
    let config = ModelConfig(vocabSize: 264, contextLength: 16, dModel: 16, numLayers: 2, numHeads: 2, dFF: 48,
                             ropeTheta: theta, norm: norm, position: position, ffn: ffn, tieEmbeddings: tied)
    return try TransformerLM(config: config, seed: seed)
}

func tinyTokenizerExport() throws -> TokenizerExport {
    try TokenizerExport(vocabulary: tinyVocabulary(), source: "test vocabulary")
}

/// A JSON file parsed with Foundation (independent of the writer under test).
func readJSON(_ url: URL) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
    return object as? [String: Any] ?? [:]
}

/// The parameter values of `model` named `name`.
func values(_ model: TransformerLM, _ name: String) -> [Float] {
    let store = model.parameters
    return Array(store.values(of: store.entry(named: name)!))
}

/// Entries of a folder, hidden ones included.
func folderEntries(_ url: URL) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted()
}
