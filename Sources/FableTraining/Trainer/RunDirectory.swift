import FableFormats
import Foundation

/// The folder of one training run:
///
/// ```
/// RUN_DIR/
///   config.json                       the resolved TrainingConfig (every key)
///   metrics.jsonl                     one JSON line per log interval, plus events
///   checkpoints/step_000100.safetensors
///   checkpoints/latest.safetensors    a link to the newest complete checkpoint
/// ```
public struct RunDirectory: Sendable, Equatable {
    /// The run's folder.
    public let url: URL

    public init(_ url: URL) {
        self.url = url.standardizedFileURL
    }

    /// `config.json`: the resolved configuration.
    public var configURL: URL { url.appendingPathComponent("config.json") }
    /// `metrics.jsonl`: the metrics log.
    public var metricsURL: URL { url.appendingPathComponent("metrics.jsonl") }
    /// `checkpoints/`.
    public var checkpointsURL: URL { url.appendingPathComponent("checkpoints") }
    /// `checkpoints/latest.safetensors`: a symbolic link to the newest checkpoint.
    public var latestLinkURL: URL { checkpointsURL.appendingPathComponent("latest.safetensors") }

    /// The file name of the checkpoint taken after `step` steps: `step_000100.safetensors`.
    public static func checkpointName(step: Int) -> String {
        let digits = String(step)
        return "step_" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits + ".safetensors"
    }

    /// `checkpoints/step_NNNNNN.safetensors`.
    public func checkpointURL(step: Int) -> URL {
        checkpointsURL.appendingPathComponent(Self.checkpointName(step: step))
    }

    /// True when the folder already holds a run's files (metrics or checkpoints).
    public var holdsRun: Bool {
        let fm = FileManager.default
        return fm.fileExists(atPath: metricsURL.path) || !stepCheckpoints().isEmpty
    }

    /// The step checkpoints present, oldest first.
    public func stepCheckpoints() -> [(step: Int, url: URL)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: checkpointsURL.path)) ?? []
        return names.compactMap { name -> (Int, URL)? in
            guard name.hasPrefix("step_"), name.hasSuffix(".safetensors") else { return nil }
            guard let step = Int(name.dropFirst(5).dropLast(12)) else { return nil }
            return (step, checkpointsURL.appendingPathComponent(name))
        }.sorted { $0.0 < $1.0 }
    }

    /// The checkpoint a resumed run continues from: the target of `latest.safetensors`,
    /// or the highest-numbered step checkpoint when the link is missing.
    public func latestCheckpoint() -> URL? {
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: latestLinkURL.path) {
            let resolved = target.hasPrefix("/") ? URL(fileURLWithPath: target) : checkpointsURL.appendingPathComponent(target)
            if FileManager.default.fileExists(atPath: resolved.path) { return resolved }
        }
        return stepCheckpoints().last?.url
    }

    /// Points `latest.safetensors` at `checkpoint` (a file in `checkpoints/`), atomically:
    /// the link is made under a temporary name and renamed over the old one.
    public func markLatest(_ checkpoint: URL) throws {
        do {
            try AtomicFile.replaceSymbolicLink(at: latestLinkURL, destination: checkpoint.lastPathComponent)
        } catch {
            throw TrainerError.fileSystem(path: latestLinkURL.path, reason: error.reason)
        }
    }

    /// Deletes all but the newest `keep` step checkpoints (0 keeps all), never the one
    /// `latest.safetensors` points to.
    public func pruneCheckpoints(keep: Int) {
        guard keep > 0 else { return }
        let latest = latestCheckpoint()?.lastPathComponent
        let all = stepCheckpoints()
        for (_, url) in all.dropLast(keep) where url.lastPathComponent != latest {
            try? FileManager.default.removeItem(at: url)
        }
    }

    /// Creates the folder and `checkpoints/`.
    public func create() throws {
        do {
            try FileManager.default.createDirectory(at: checkpointsURL, withIntermediateDirectories: true)
        } catch {
            throw TrainerError.fileSystem(path: checkpointsURL.path, reason: error.localizedDescription)
        }
    }

    /// Writes `config.json` atomically.
    public func writeConfig(_ config: TrainingConfig) throws {
        var data = config.jsonData()
        data.append(UInt8(ascii: "\n"))
        do {
            try AtomicFile.write([UInt8](data), to: configURL)
        } catch {
            throw TrainerError.fileSystem(path: configURL.path, reason: error.reason)
        }
    }
}
