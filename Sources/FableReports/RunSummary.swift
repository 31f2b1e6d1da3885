import FableFormats
import FableTraining
import Foundation

/// Why a run directory could not be summarised.
public enum RunReportError: Error, CustomStringConvertible, LocalizedError {
    /// The run directory does not exist or is not a directory.
    case missingDirectory(path: String)
    /// `config.json` exists but is not valid JSON.
    case badConfig(path: String, line: Int, column: Int, reason: String)
    /// The metrics log could not be read.
    case metrics(MetricsLogError)
    /// The report could not be written.
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .missingDirectory(let path):
            return "\(path): no such run directory"
        case .badConfig(let path, let line, let column, let reason):
            return "\(path):\(line):\(column): not valid JSON: \(reason)"
        case .metrics(let error):
            return error.description
        case .writeFailed(let path, let reason):
            return "\(path): cannot be written: \(reason)"
        }
    }

    public var errorDescription: String? { description }
}

/// What one training run did, read from its directory: `metrics.jsonl` (required) and the
/// resolved `config.json` (optional, any JSON object).
///
/// Records are put on one timeline first: a line with the same step as the one before it
/// is merged into it (a loop may log validation separately), and a line whose step goes
/// back (a run resumed from an earlier checkpoint without rewinding its log) replaces the
/// lines from that step on.
public struct RunSummary: Sendable {
    /// Why the run is considered diverged.
    public struct Divergence: Equatable, Sendable {
        /// The first step at which it showed, when known.
        public var step: Int?
        /// A short explanation: "train loss is NaN", "train loss rose from 9.21 to 15.2".
        public var reason: String
    }

    /// The run's display name (the directory name unless given).
    public var name: String
    /// The run directory.
    public let directory: URL
    /// The resolved configuration with nested keys flattened (`optimizer.lr`); empty when
    /// there is no config.json.
    package let config: [String: JSONValue]
    /// The metrics records on one timeline, in step order.
    public let records: [MetricsRecord]
    /// The events in file order.
    public let events: [MetricsEvent]
    /// True when the log ended with a cut-short line (the run was killed mid-write).
    public let droppedTruncatedLine: Bool

    /// The last step logged.
    public let lastStep: Int?
    /// Tokens consumed by the last step logged.
    public let tokens: Int?
    /// Wall-clock seconds at the last line that has them.
    public let wallSeconds: Double?
    /// The last training loss logged (may be non-finite).
    public let finalTrainLoss: Double?
    /// The last validation loss logged (may be non-finite).
    public let finalValLoss: Double?
    /// The lowest finite validation loss, and its step.
    public let bestValLoss: (loss: Double, step: Int)?
    /// The lowest finite training loss, and its step.
    public let bestTrainLoss: (loss: Double, step: Int)?
    /// Set when the run diverged: an explicit `diverged` event, a non-finite loss, or a
    /// training loss far above where it started, at the end or for three logged values in
    /// a row (a blow-up the learning-rate schedule later recovered from).
    public let divergence: Divergence?

    /// The training loss counts as exploded when its final value exceeds its first one by
    /// this factor.
    public static let defaultDivergenceFactor = 1.25

    // MARK: - Loading

    /// Reads a run directory.
    /// - Parameters:
    ///   - directory: a folder holding `metrics.jsonl` and, optionally, `config.json`.
    ///   - name: the display name; default the folder's name.
    ///   - divergenceFactor: see ``defaultDivergenceFactor``.
    /// - Throws: ``RunReportError`` naming the file (and line) at fault.
    public static func load(_ directory: URL, name: String? = nil,
                            divergenceFactor: Double = defaultDivergenceFactor) throws -> RunSummary {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory),
              isDirectory.boolValue else {
            throw RunReportError.missingDirectory(path: directory.path)
        }
        let log: MetricsLog
        do {
            log = try MetricsLog.read(directory.appendingPathComponent("metrics.jsonl"))
        } catch let error as MetricsLogError {
            throw RunReportError.metrics(error)
        }
        let configURL = directory.appendingPathComponent("config.json")
        var config: [String: JSONValue] = [:]
        if FileManager.default.fileExists(atPath: configURL.path) {
            do {
                config = try JSONValue.parse(Data(contentsOf: configURL)).flattened
            } catch let error as JSONParseError {
                throw RunReportError.badConfig(path: configURL.path, line: error.line, column: error.column,
                                               reason: error.reason)
            } catch {
                throw RunReportError.badConfig(path: configURL.path, line: 0, column: 0,
                                               reason: error.localizedDescription)
            }
        }
        let standardized = directory.standardizedFileURL
        return RunSummary(name: name ?? standardized.lastPathComponent, directory: standardized,
                          config: config, log: log, divergenceFactor: divergenceFactor)
    }

    /// Summarises a log already in memory.
    package init(name: String, directory: URL, config: [String: JSONValue], log: MetricsLog,
                divergenceFactor: Double = defaultDivergenceFactor) {
        self.name = name
        self.directory = directory
        self.config = config
        self.events = log.events
        self.droppedTruncatedLine = log.droppedTruncatedLine
        let records = RunSummary.timeline(log.records)
        self.records = records

        lastStep = records.last?.step
        tokens = records.last(where: { $0.tokens != nil })?.tokens
        wallSeconds = records.last(where: { $0.wallSeconds != nil })?.wallSeconds
        finalTrainLoss = records.last(where: { $0.trainLoss != nil })?.trainLoss
        finalValLoss = records.last(where: { $0.valLoss != nil })?.valLoss
        func best(_ value: (MetricsRecord) -> Double?) -> (loss: Double, step: Int)? {
            var result: (loss: Double, step: Int)?
            for r in records {
                guard let v = value(r), v.isFinite else { continue }
                if result == nil || v < result!.loss { result = (v, r.step) }
            }
            return result
        }
        bestValLoss = best(\.valLoss)
        bestTrainLoss = best(\.trainLoss)
        divergence = RunSummary.detectDivergence(records: records, events: log.events, factor: divergenceFactor)
    }

    /// Merges same-step lines and lets a resumed stretch replace the lines it re-ran.
    static func timeline(_ records: [MetricsRecord]) -> [MetricsRecord] {
        var out: [MetricsRecord] = []
        for r in records {
            if let last = out.last, r.step == last.step {
                out[out.count - 1] = merge(last, r)
                continue
            }
            if let last = out.last, r.step < last.step {
                out.removeAll { $0.step >= r.step }
            }
            out.append(r)
        }
        return out
    }

    /// `b`'s fields over `a`'s.
    static func merge(_ a: MetricsRecord, _ b: MetricsRecord) -> MetricsRecord {
        MetricsRecord(step: b.step, tokens: b.tokens ?? a.tokens, wallSeconds: b.wallSeconds ?? a.wallSeconds,
                      lr: b.lr ?? a.lr, trainLoss: b.trainLoss ?? a.trainLoss, valLoss: b.valLoss ?? a.valLoss,
                      gradNorm: b.gradNorm ?? a.gradNorm, tokensPerSecond: b.tokensPerSecond ?? a.tokensPerSecond,
                      extra: a.extra.merging(b.extra) { $1 })
    }

    // MARK: - Divergence

    static func detectDivergence(records: [MetricsRecord], events: [MetricsEvent], factor: Double) -> Divergence? {
        if let event = events.first(where: { $0.name == MetricsEvent.diverged }) {
            return Divergence(step: event.step, reason: event.message ?? "the run reported divergence")
        }
        for r in records {
            if let loss = r.trainLoss, !loss.isFinite {
                return Divergence(step: r.step, reason: "train loss is \(HumanFormat.fixed(loss, decimals: 0))")
            }
            if let loss = r.valLoss, !loss.isFinite {
                return Divergence(step: r.step, reason: "val loss is \(HumanFormat.fixed(loss, decimals: 0))")
            }
        }
        let train = records.compactMap { r in r.trainLoss.map { (step: r.step, loss: $0) } }
        guard let first = train.first, train.count >= 2, first.loss > 0 else { return nil }
        // The mean of the last few values, so one noisy batch does not decide.
        let tail = train.suffix(3)
        let finalLoss = tail.map(\.loss).reduce(0, +) / Double(tail.count)
        let limit = first.loss * factor
        if finalLoss > limit {
            let firstBad = train.first { $0.loss > limit }
            return Divergence(step: firstBad?.step,
                              reason: "train loss rose from \(HumanFormat.fixed(first.loss, decimals: 2)) to \(HumanFormat.fixed(finalLoss, decimals: 2))")
        }
        // A blow-up the schedule recovered from (the rate decayed below the unstable range)
        // still diverged: three logged values in a row whose median is over the limit, so a
        // single noisy batch does not count.
        guard train.count >= 3 else { return nil }
        var peak: (step: Int, loss: Double)?
        var start: Int?
        for i in 0...(train.count - 3) {
            let window = train[i..<(i + 3)]
            let median = window.map(\.loss).sorted()[1]
            guard median > limit else { continue }
            if start == nil { start = window.first { $0.loss > limit }?.step }
            if let top = window.max(by: { $0.loss < $1.loss }), top.loss > (peak?.loss ?? -.infinity) { peak = top }
        }
        guard let start, let peak else { return nil }
        return Divergence(step: start,
                          reason: "train loss rose from \(HumanFormat.fixed(first.loss, decimals: 2)) to a peak of "
                              + "\(HumanFormat.fixed(peak.loss, decimals: 2)) (step \(peak.step)), then came back to "
                              + "\(HumanFormat.fixed(finalLoss, decimals: 2))")
    }

    // MARK: - Derived facts

    /// True when the run diverged.
    public var diverged: Bool { divergence != nil }

    /// True when the log has no metrics records yet.
    public var isEmpty: Bool { records.isEmpty }

    /// True when any record has a validation loss.
    public var hasValidation: Bool { records.contains { $0.valLoss != nil } }

    /// The planned number of steps, from a config key such as `steps` or `max_steps`.
    public var plannedSteps: Int? {
        for key in RunSummary.plannedStepKeys {
            if let v = config.first(where: { $0.key == key || $0.key.hasSuffix("." + key) })?.value.intValue, v > 0 {
                return v
            }
        }
        return nil
    }

    static let plannedStepKeys = ["steps", "max_steps", "total_steps", "num_steps", "train_steps", "max_iters"]

    /// A word on how the run ended: `diverged`, `finished`, `interrupted`, `62%` of the
    /// planned steps, `no metrics`, or `—` when it cannot tell.
    public var status: String {
        if isEmpty { return "no metrics" }
        if diverged { return "diverged" }
        if events.contains(where: { $0.name == MetricsEvent.finished }) { return "finished" }
        if let planned = plannedSteps, let last = lastStep {
            if last >= planned { return "finished" }
            let percent = Int((Double(last) / Double(planned) * 100).rounded(.down))
            if events.last?.name == MetricsEvent.interrupted { return "interrupted at \(percent)%" }
            return "\(percent)% of \(planned)"
        }
        if events.last?.name == MetricsEvent.interrupted { return "interrupted" }
        return "—"
    }

    /// The loss used to rank runs: `val_loss` ranks by best validation loss (falling back
    /// to training loss for runs without validation), `train_loss` by best training loss.
    public func rankingLoss(_ metric: ReportMetric) -> Double? {
        switch metric {
        case .valLoss: return bestValLoss?.loss ?? bestTrainLoss?.loss
        case .trainLoss: return bestTrainLoss?.loss
        }
    }
}

/// The loss a report ranks and highlights runs by.
public enum ReportMetric: String, CaseIterable, Sendable {
    case valLoss = "val_loss"
    case trainLoss = "train_loss"

    /// "validation loss" or "training loss".
    public var title: String { self == .valLoss ? "validation loss" : "training loss" }
}
