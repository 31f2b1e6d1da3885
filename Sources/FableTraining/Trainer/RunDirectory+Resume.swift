import Foundation

extension RunDirectory {
    /// A checkpoint that could not be loaded when resuming, and why.
    public struct SkippedCheckpoint: Sendable {
        public var url: URL
        public var reason: String
        /// Where the file was moved so it no longer counts as a checkpoint.
        public var movedTo: URL?
    }

    /// The checkpoints a resumed run may continue from, best first: the target of
    /// `latest.safetensors`, then every step checkpoint, newest first.
    public func resumeCandidates() -> [URL] {
        var candidates: [URL] = []
        if let latest = latestCheckpoint() { candidates.append(latest.standardizedFileURL) }
        for (_, url) in stepCheckpoints().reversed() where !candidates.contains(url.standardizedFileURL) {
            candidates.append(url.standardizedFileURL)
        }
        return candidates
    }

    /// Loads the newest checkpoint that loads: `load` is tried on each of
    /// ``resumeCandidates()`` in turn. A newer checkpoint that fails (truncated by a full
    /// disk, damaged) is renamed to `NAME.unloadable`, kept for inspection but no longer
    /// counted, and `latest.safetensors` is pointed at the one that loaded.
    ///
    /// - Returns: the checkpoint, what `load` returned, and the ones skipped (for a warning).
    /// - Throws: ``TrainerError/nothingToResume(path:reason:)`` when there is no
    ///   checkpoint or none loads (with each one's reason).
    public func loadNewestCheckpoint<T>(_ load: (URL) throws -> T) throws -> (checkpoint: URL, value: T, skipped: [SkippedCheckpoint]) {
        let candidates = resumeCandidates()
        guard !candidates.isEmpty else {
            throw TrainerError.nothingToResume(path: url.path, reason: "it has no checkpoint yet")
        }
        var skipped: [SkippedCheckpoint] = []
        for candidate in candidates {
            do {
                let value = try load(candidate)
                for index in skipped.indices {
                    let aside = skipped[index].url.appendingPathExtension("unloadable")
                    try? FileManager.default.removeItem(at: aside)
                    if (try? FileManager.default.moveItem(at: skipped[index].url, to: aside)) != nil {
                        skipped[index].movedTo = aside
                    }
                }
                if !skipped.isEmpty { try markLatest(candidate) }
                return (candidate, value, skipped)
            } catch {
                skipped.append(SkippedCheckpoint(url: candidate, reason: "\(error)"))
            }
        }
        let reasons = skipped.map { "\($0.url.lastPathComponent): \($0.reason)" }.joined(separator: "; ")
        throw TrainerError.nothingToResume(path: url.path, reason: "no checkpoint loads (\(reasons))")
    }
}
