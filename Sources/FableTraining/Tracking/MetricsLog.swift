import FableFormats
import Foundation

// The metrics.jsonl format: one JSON object per line, appended as training runs.
//
//   {"step":100,"tokens":204800,"wall_seconds":61.2,"lr":0.0003,"train_loss":4.1,
//    "val_loss":4.3,"grad_norm":0.8,"tokens_per_second":3346}
//   {"event":"diverged","step":1350,"message":"train loss is NaN"}
//
// A line with an "event" key is an event; any other line is a metrics record, which needs
// "step" and may carry any of the other keys (val_loss only when it was measured) plus
// extra keys of its own. Non-finite numbers are written as NaN / Infinity like Python's
// json module, so a diverged loss is recorded faithfully.

// MARK: - Records and events

/// One line of training metrics.
public struct MetricsRecord: Equatable, Sendable {
    /// The optimizer step this line describes (steps done so far).
    public var step: Int
    /// Training tokens consumed so far.
    public var tokens: Int?
    /// Wall-clock seconds since the run started (continuing across resumes).
    public var wallSeconds: Double?
    /// Learning rate used for this step.
    public var lr: Double?
    /// Training loss (the step's loss, or a mean over the steps since the last line).
    public var trainLoss: Double?
    /// Validation loss, present only on lines where it was measured.
    public var valLoss: Double?
    /// Gradient L2 norm before clipping.
    public var gradNorm: Double?
    /// Training throughput.
    public var tokensPerSecond: Double?
    /// Any other keys, kept as they were read.
    package var extra: [String: JSONValue]

    package init(step: Int, tokens: Int? = nil, wallSeconds: Double? = nil, lr: Double? = nil,
                trainLoss: Double? = nil, valLoss: Double? = nil, gradNorm: Double? = nil,
                tokensPerSecond: Double? = nil, extra: [String: JSONValue] = [:]) {
        self.step = step
        self.tokens = tokens
        self.wallSeconds = wallSeconds
        self.lr = lr
        self.trainLoss = trainLoss
        self.valLoss = valLoss
        self.gradNorm = gradNorm
        self.tokensPerSecond = tokensPerSecond
        self.extra = extra
    }

    /// Two records are equal when every field matches, NaN matching NaN (so a diverged
    /// loss round-trips equal).
    public static func == (a: MetricsRecord, b: MetricsRecord) -> Bool {
        func same(_ x: Double?, _ y: Double?) -> Bool {
            switch (x, y) {
            case (nil, nil): return true
            case let (x?, y?): return x == y || (x.isNaN && y.isNaN)
            default: return false
            }
        }
        return a.step == b.step && a.tokens == b.tokens && same(a.wallSeconds, b.wallSeconds)
            && same(a.lr, b.lr) && same(a.trainLoss, b.trainLoss) && same(a.valLoss, b.valLoss)
            && same(a.gradNorm, b.gradNorm) && same(a.tokensPerSecond, b.tokensPerSecond)
            && a.extra == b.extra
    }
}

/// A line that marks something that happened in a run rather than a measurement.
public struct MetricsEvent: Equatable, Sendable {
    /// The event's name, e.g. ``diverged``.
    public var name: String
    /// The step at which it happened, when known.
    public var step: Int?
    /// Other keys of the line, e.g. `message`.
    package var fields: [String: JSONValue]

    package init(_ name: String, step: Int? = nil, fields: [String: JSONValue] = [:]) {
        self.name = name
        self.step = step
        self.fields = fields
    }

    /// The run stopped because a loss became non-finite or exploded.
    public static let diverged = "diverged"
    /// The run continued from a checkpoint.
    public static let resumed = "resumed"
    /// The run was interrupted (Ctrl-C) after saving a checkpoint.
    public static let interrupted = "interrupted"
    /// The run reached its planned end.
    public static let finished = "finished"

    /// The `message` field, when the line has one.
    public var message: String? { fields["message"]?.stringValue }
}

/// One line of a metrics log.
public enum MetricsEntry: Equatable, Sendable {
    case record(MetricsRecord)
    case event(MetricsEvent)
}

// MARK: - Encoding a line

extension MetricsEntry {
    /// The JSON object of this entry: the known keys in a fixed order, then extras sorted,
    /// without a newline.
    public var jsonLine: String {
        var out = "{"
        var first = true
        func key(_ name: String) {
            if !first { out += "," }
            first = false
            out += JSONWriter.quoted(name) + ":"
        }
        func number(_ name: String, _ value: Double?) {
            guard let value else { return }
            key(name)
            out += MetricsEntry.numberText(value)
        }
        func extras(_ members: [String: JSONValue], skipping reserved: Set<String>) {
            for name in members.keys.sorted() where !reserved.contains(name) {
                key(name)
                out += members[name]!.jsonText
            }
        }
        switch self {
        case .record(let r):
            key("step"); out += String(r.step)
            if let tokens = r.tokens { key("tokens"); out += String(tokens) }
            number("wall_seconds", r.wallSeconds)
            number("lr", r.lr)
            number("train_loss", r.trainLoss)
            number("val_loss", r.valLoss)
            number("grad_norm", r.gradNorm)
            number("tokens_per_second", r.tokensPerSecond)
            extras(r.extra, skipping: MetricsRecord.knownKeys.union(["event"]))
        case .event(let e):
            key("event"); out += JSONWriter.quoted(e.name)
            if let step = e.step { key("step"); out += String(step) }
            extras(e.fields, skipping: ["event", "step"])
        }
        return out + "}"
    }

    /// Integral values below 2^53 without a fraction (`3346`, as this file has always
    /// held them), others as Python writes them (`0.0003`, `1e-05`, `NaN`).
    static func numberText(_ x: Double) -> String {
        if x.isFinite, x.rounded() == x, abs(x) < 9_007_199_254_740_992 { return String(Int64(x)) }
        return JSONWriter.doubleText(x)
    }
}

extension JSONValue {
    /// The number, also from the strings `"NaN"`, `"Infinity"` and `"-Infinity"` that some
    /// writers quote non-finite floats as; nil for anything else.
    package var metricValue: Double? {
        switch self {
        case .number(let n): return n.doubleValue
        case .string(let s):
            switch s {
            case "NaN", "nan": return .nan
            case "Infinity", "inf": return .infinity
            case "-Infinity", "-inf": return -.infinity
            default: return nil
            }
        default: return nil
        }
    }
}

extension MetricsRecord {
    /// The keys this type reads into typed fields.
    public static let knownKeys: Set<String> = [
        "step", "tokens", "wall_seconds", "lr", "train_loss", "val_loss", "grad_norm", "tokens_per_second",
    ]
}

// MARK: - Errors

/// Why a metrics log could not be read or written.
public enum MetricsLogError: Error, CustomStringConvertible, LocalizedError {
    /// The file does not exist.
    case missingFile(path: String)
    /// The file exists but could not be read or opened for appending.
    case unreadable(path: String, reason: String)
    /// A complete line is not a JSON object.
    case malformedLine(path: String, line: Int, reason: String)
    /// A key is missing or holds the wrong kind of value.
    case badField(path: String, line: Int, key: String, expected: String, found: String)
    /// The file could not be created, appended to or rewritten.
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .missingFile(let path):
            return "\(path): no such file (a run directory should contain metrics.jsonl)"
        case .unreadable(let path, let reason):
            return "\(path): cannot be read: \(reason)"
        case .malformedLine(let path, let line, let reason):
            return "\(path):\(line): not a JSON object: \(reason)"
        case .badField(let path, let line, let key, let expected, let found):
            return "\(path):\(line): key \"\(key)\" should be \(expected), found \(found)"
        case .writeFailed(let path, let reason):
            return "\(path): cannot be written: \(reason)"
        }
    }

    public var errorDescription: String? { description }
}

// MARK: - Reading

/// The contents of a metrics.jsonl file.
public struct MetricsLog: Sendable {
    /// The file that was read.
    public let url: URL
    /// Every line in file order.
    public let entries: [MetricsEntry]
    /// True when the last line had no newline and did not parse: a write cut short by a
    /// crash or Ctrl-C, which is ignored rather than reported as an error.
    public let droppedTruncatedLine: Bool

    public init(url: URL, entries: [MetricsEntry], droppedTruncatedLine: Bool = false) {
        self.url = url
        self.entries = entries
        self.droppedTruncatedLine = droppedTruncatedLine
    }

    /// The metrics records in file order.
    public var records: [MetricsRecord] {
        entries.compactMap { if case .record(let r) = $0 { return r } else { return nil } }
    }

    /// The events in file order.
    public var events: [MetricsEvent] {
        entries.compactMap { if case .event(let e) = $0 { return e } else { return nil } }
    }

    /// Reads a metrics log. Blank lines are skipped; a truncated final line is dropped.
    /// - Throws: ``MetricsLogError`` naming the file and the 1-based line of any problem.
    public static func read(_ url: URL) throws -> MetricsLog {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw MetricsLogError.missingFile(path: url.path)
        }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw MetricsLogError.unreadable(path: url.path, reason: error.localizedDescription)
        }
        return try parse(data, url: url)
    }

    /// Parses the text of a metrics log; `url` names the file in errors.
    public static func parse(_ data: Data, url: URL) throws -> MetricsLog {
        let path = url.path
        var entries: [MetricsEntry] = []
        var dropped = false
        let bytes = [UInt8](data)
        var lineStart = 0
        var lineNumber = 0
        while lineStart < bytes.count {
            lineNumber += 1
            let newline = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n"))
            let lineEnd = newline ?? bytes.count
            let isFinalUnterminated = newline == nil
            defer { lineStart = lineEnd + 1 }
            let text = String(decoding: bytes[lineStart..<lineEnd], as: UTF8.self)
            if text.allSatisfy(\.isWhitespace) { continue }
            do {
                entries.append(try entry(fromLine: text, path: path, line: lineNumber))
            } catch let error as MetricsLogError {
                // A final line without its newline is a write the process did not finish.
                if isFinalUnterminated { dropped = true; break }
                throw error
            }
        }
        return MetricsLog(url: url, entries: entries, droppedTruncatedLine: dropped)
    }

    /// Parses one line of a metrics log.
    static func entry(fromLine text: String, path: String, line: Int) throws -> MetricsEntry {
        let value: JSONValue
        do {
            value = try JSONValue.parse(text, options: .allowNonFiniteNumbers)
        } catch {
            throw MetricsLogError.malformedLine(path: path, line: line,
                                               reason: "column \(error.column): \(error.reason)")
        }
        guard case .object(let members) = value else {
            throw MetricsLogError.malformedLine(path: path, line: line, reason: "found \(value.kindDescription)")
        }
        func bad(_ key: String, _ expected: String) -> MetricsLogError {
            .badField(path: path, line: line, key: key, expected: expected,
                      found: members[key].map { "\($0.kindDescription) \($0.jsonText)" } ?? "nothing")
        }
        func integer(_ key: String) throws -> Int? {
            guard let v = members[key], v != .null else { return nil }
            guard let i = v.intValue else { throw bad(key, "a whole number") }
            return i
        }
        func number(_ key: String) throws -> Double? {
            guard let v = members[key], v != .null else { return nil }
            guard let x = v.metricValue else { throw bad(key, "a number") }
            return x
        }

        if let event = members["event"] {
            guard let name = event.stringValue else { throw bad("event", "a string") }
            var fields = members
            fields["event"] = nil
            fields["step"] = nil
            return .event(MetricsEvent(name, step: try integer("step"), fields: fields.dictionary))
        }
        guard let step = try integer("step") else { throw bad("step", "a whole number") }
        var extra = members
        for key in MetricsRecord.knownKeys { extra[key] = nil }
        return .record(MetricsRecord(
            step: step, tokens: try integer("tokens"), wallSeconds: try number("wall_seconds"),
            lr: try number("lr"), trainLoss: try number("train_loss"), valLoss: try number("val_loss"),
            gradNorm: try number("grad_norm"), tokensPerSecond: try number("tokens_per_second"),
            extra: extra.dictionary))
    }
}
