import FableTensor
import Foundation

/// Reads and writes a model's parameters as safetensors with the CS336 state-dict names
/// (`token_embeddings.weight`, `layers.{i}.attn.q_proj.weight`, ..., `lm_head.weight`).
///
/// A file written by PyTorch's `safetensors.torch.save_file(model.state_dict())` for the
/// CS336 architecture loads here, and a file saved here loads there with
/// `model.load_state_dict(safetensors.torch.load_file(path))`. Float16, BFloat16 and
/// Float64 tensors are converted to Float32 on load. Loading checks the whole file before
/// changing any parameter: a missing, extra or mis-shaped tensor is an error naming it.
public enum ModelWeights {
    /// The metadata key under which Fable stores the model configuration as JSON.
    public static let configMetadataKey = "fable_model_config"

    // MARK: - Loading

    /// Loads every entry of `store` from the file at `url`.
    ///
    /// - Parameters:
    ///   - aliases: names the file may hold in addition to the store's, each mapped to the
    ///     store entry it duplicates (a tied `lm_head.weight` → `token_embeddings.weight`).
    ///     An alias present in the file must equal its target.
    public static func load(
        into store: ParameterStore, from url: URL, aliases: [String: String] = [:]
    ) throws(ModelWeightsError) {
        let path = url.path
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(contentsOf: url) } catch { throw .file(path: path, reason: "\(error)") }

        // Check names and shapes of everything first, so a bad file changes nothing.
        let expected = Set(store.entries.map(\.name))
        let missing = store.entries.map(\.name).filter { !file.contains($0) }
        let extra = file.names.filter { !expected.contains($0) && aliases[$0] == nil }
        if !missing.isEmpty { throw .missingTensors(path: path, names: missing) }
        if !extra.isEmpty { throw .unexpectedTensors(path: path, names: extra) }
        for entry in store.entries {
            try checkShape(file, name: entry.name, expected: entry.shape, path: path)
        }
        for (alias, target) in aliases.sorted(by: { $0.key < $1.key }) where file.contains(alias) {
            guard let entry = store.entry(named: target) else { continue }
            try checkShape(file, name: alias, expected: entry.shape, path: path)
        }

        // Read into a scratch buffer, then copy, so a conversion error leaves the store intact.
        let scratch = UnsafeMutableBufferPointer<Float>.allocate(capacity: store.count)
        defer { scratch.deallocate() }
        do {
            for entry in store.entries {
                try file.readFloats(
                    named: entry.name, expectedShape: entry.shape,
                    into: UnsafeMutableBufferPointer(rebasing: scratch[entry.range]))
            }
            for (alias, target) in aliases.sorted(by: { $0.key < $1.key }) where file.contains(alias) {
                guard let entry = store.entry(named: target) else { continue }
                let values = try file.floats(named: alias)
                if !values.elementsEqual(scratch[entry.range]) {
                    throw ModelWeightsError.aliasDiffers(path: path, name: alias, target: target)
                }
            }
        } catch let error as ModelWeightsError {
            throw error
        } catch {
            throw .file(path: path, reason: "\(error)")
        }
        _ = store.values.update(fromContentsOf: scratch)
    }

    private static func checkShape(
        _ file: SafeTensorsFile, name: String, expected: [Int], path: String
    ) throws(ModelWeightsError) {
        let info: SafeTensors.TensorInfo
        do { info = try file.info(named: name) } catch { throw .file(path: path, reason: "\(error)") }
        if info.shape != expected {
            throw .shapeMismatch(path: path, name: name, expected: expected, actual: info.shape)
        }
        if !info.dtype.convertsToFloat {
            throw .notFloat(path: path, name: name, dtype: info.dtype.rawValue)
        }
    }

    /// The model configuration stored in a file's metadata by ``save(_:to:config:)``, or
    /// nil when the file has none (files written by PyTorch).
    public static func config(in url: URL) throws(ModelWeightsError) -> ModelConfig? {
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(contentsOf: url) } catch { throw .file(path: url.path, reason: "\(error)") }
        guard let json = file.metadata[configMetadataKey] else { return nil }
        do {
            return try ModelConfig.decode(Data(json.utf8), source: "\(url.path) metadata \(configMetadataKey)")
        } catch {
            throw .file(path: url.path, reason: "\(error)")
        }
    }

    // MARK: - Saving

    /// Writes every entry of `store` as Float32 (atomically: a temporary file renamed into
    /// place), with `config` as JSON metadata when given.
    public static func save(_ store: ParameterStore, to url: URL, config: ModelConfig? = nil) throws(ModelWeightsError) {
        var metadata: [String: String]? = nil
        if let config {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            metadata = [configMetadataKey: String(decoding: (try? encoder.encode(config)) ?? Data(), as: UTF8.self)]
        }
        var writer = SafeTensorsWriter(metadata: metadata)
        do {
            for entry in store.entries {
                try writer.add(entry.name, shape: entry.shape, borrowing: UnsafeBufferPointer(store.values(of: entry)))
            }
            try writer.write(to: url)
        } catch {
            throw .file(path: url.path, reason: "\(error)")
        }
    }
}

/// Why model weights could not be loaded or saved; every message names the file and tensor.
public enum ModelWeightsError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened, parsed, read or written.
    case file(path: String, reason: String)
    /// The model needs tensors the file lacks.
    case missingTensors(path: String, names: [String])
    /// The file holds tensors the model does not have.
    case unexpectedTensors(path: String, names: [String])
    /// A tensor's shape differs from the model's.
    case shapeMismatch(path: String, name: String, expected: [Int], actual: [Int])
    /// A tensor is not a floating-point type.
    case notFloat(path: String, name: String, dtype: String)
    /// A tied duplicate (such as lm_head.weight) differs from the tensor it must equal.
    case aliasDiffers(path: String, name: String, target: String)

    public var description: String {
        func list(_ names: [String]) -> String {
            names.count <= 6 ? names.joined(separator: ", ")
                : names.prefix(6).joined(separator: ", ") + " and \(names.count - 6) more"
        }
        switch self {
        case let .file(path, reason):
            return reason.contains(path) ? reason : "\(path): \(reason)"
        case let .missingTensors(path, names):
            return "\(path): missing tensor\(names.count == 1 ? "" : "s") \(list(names)) (the model config does not match this file?)"
        case let .unexpectedTensors(path, names):
            return "\(path): unexpected tensor\(names.count == 1 ? "" : "s") \(list(names)) that the model does not have"
        case let .shapeMismatch(path, name, expected, actual):
            return "\(path): tensor \(name) has shape \(actual), but the model expects \(expected)"
        case let .notFloat(path, name, dtype):
            return "\(path): tensor \(name) has dtype \(dtype); expected a floating-point type (F32, F16, BF16, F64)"
        case let .aliasDiffers(path, name, target):
            return "\(path): tensor \(name) differs from \(target), but the model ties them"
        }
    }
}
