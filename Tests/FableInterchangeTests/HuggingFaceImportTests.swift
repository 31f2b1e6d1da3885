import FableInterchange
import FableModel
import FableTensor
import FableTestSupport
import FableTokenizer
import FableTraining
import Foundation
import Testing

/// `HuggingFaceImport` against folders written by transformers' `save_pretrained` and HF
/// `tokenizers` (Scripts/reference/interchange_fixtures.py), and the export -> import round trip.
@Suite struct HuggingFaceImportTests {
    struct Expected: Decodable {
        let text: String
        let ids: [Int]
        let positions: [Int]
        let logits: [[Float]]
    }

    @Test("a transformers Llama imports with AutoTokenizer's ids and LlamaForCausalLM's logits (within 1e-4)",
          arguments: ["hf-tiny", "hf-tiny-tied"])
    func transformersFixture(name: String) throws {
        let source = TestData.fixture("interchange/\(name)")
        let expected = try TestData.jsonFixture("interchange/\(name)/expected.json", as: Expected.self)
        let imported = try HuggingFaceImport.read(from: source)
        #expect(imported.model.config.tieEmbeddings == (name == "hf-tiny-tied"))
        #expect(imported.model.config.ropeTheta == (name == "hf-tiny-tied" ? 500 : 10_000))
        let tokenizer = try Tokenizer(vocabulary: imported.vocabulary)
        #expect(tokenizer.encode(expected.text) == expected.ids)
        #expect(try tokenizer.decode(expected.ids) == expected.text)
        let logits = try imported.model.forward(tokens: expected.ids, shape: [1, expected.ids.count]).toArray()
        let vocab = imported.model.config.vocabSize
        var worst: Float = 0
        for (row, position) in zip(expected.logits, expected.positions) {
            for (v, value) in row.enumerated() { worst = max(worst, abs(logits[position * vocab + v] - value)) }
        }
        #expect(worst < 1e-4, "max |Fable - transformers| = \(worst)")
    }

    @Test("export -> import is bit-exact in f32, tokenizer included", arguments: [false, true])
    func roundTrip(tied: Bool) throws {
        let folder = try temporaryFolder()
        let model = try tinyModel(tied: tied, theta: 2_500, seed: 11)
        let hf = folder.appendingPathComponent("hf"), back = folder.appendingPathComponent("fable")
        try HuggingFaceExport.write(model, tokenizer: tinyTokenizerExport(), to: hf)
        let imported = try HuggingFaceImport.read(from: hf)
        #expect(imported.model.config == model.config)
        #expect(Array(imported.model.parameters.values) == Array(model.parameters.values))
        #expect(imported.vocabulary == tinyVocabulary())
        try HuggingFaceImport.write(imported, to: back)
        #expect(folderEntries(back) == ["model.safetensors", "tokenizer"])
        // The checkpoint opens with ModelFile (as `fable generate` does) and names its tokenizer.
        let loaded = try ModelFile.load(from: back.appendingPathComponent("model.safetensors"))
        #expect(loaded.model.config == model.config)
        #expect(Array(loaded.model.parameters.values) == Array(model.parameters.values))
        #expect(loaded.tokenizerReference == "tokenizer")
        #expect(try Vocabulary.load(from: back.appendingPathComponent("tokenizer")) == tinyVocabulary())
    }

    /// A copy of the hf-tiny fixture with `edit` applied to one JSON file.
    func editedFixture(_ file: String, _ edit: (inout [String: Any]) -> Void) throws -> URL {
        let folder = try temporaryFolder().appendingPathComponent("hf")
        try FileManager.default.copyItem(at: TestData.fixture("interchange/hf-tiny"), to: folder)
        let url = folder.appendingPathComponent(file)
        var object = try readJSON(url)
        edit(&object)
        try JSONSerialization.data(withJSONObject: object).write(to: url)
        return folder
    }

    @Test("settings Fable cannot reproduce are refused, naming the key", arguments: [
        ("config.json", "num_key_value_heads", "2"),
        ("config.json", "rms_norm_eps", "1e-6"),
        ("config.json", "hidden_act", "\"gelu\""),
        ("config.json", "attention_bias", "true"),
        ("config.json", "rope_scaling", "{\"rope_type\": \"linear\", \"factor\": 2.0}"),
        ("config.json", "architectures", "[\"GPT2LMHeadModel\"]"),
        ("tokenizer.json", "normalizer", "{\"type\": \"NFC\"}"),
    ])
    func refused(file: String, key: String, json: String) throws {
        let value = try JSONSerialization.jsonObject(with: Data(json.utf8), options: .fragmentsAllowed)
        let folder = try editedFixture(file) { $0[key] = value }
        do {
            _ = try HuggingFaceImport.read(from: folder)
            Issue.record("expected \(key) to be refused")
        } catch {
            #expect("\(error)".contains(key), "\(error)")
            #expect("\(error)".contains(folder.appendingPathComponent(file).path), "\(error)")
        }
    }

    @Test("a prefix-space pre-tokenizer and a missing weight are refused with the key or tensor named")
    func refusedTokenizerAndWeights() throws {
        let prefix = try editedFixture("tokenizer.json") { json in
            json["pre_tokenizer"] = ["type": "ByteLevel", "add_prefix_space": true, "use_regex": true]
        }
        #expect { try HuggingFaceImport.read(from: prefix) } throws: { "\($0)".contains("pre_tokenizer.add_prefix_space") }
        let folder = try editedFixture("config.json") { _ in }
        let weights = folder.appendingPathComponent("model.safetensors")
        let file = try SafeTensorsFile(contentsOf: weights)
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        for name in file.names where name != "model.layers.1.mlp.up_proj.weight" {
            try writer.add(name, shape: try file.info(named: name).shape, floats: try file.floats(named: name))
        }
        try writer.write(to: weights)
        #expect(throws: InterchangeError.missingTensor(path: folder.path, tensor: "model.layers.1.mlp.up_proj.weight")) {
            try HuggingFaceImport.read(from: folder)
        }
    }
}
