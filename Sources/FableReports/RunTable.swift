import FableFormats
import FableTraining
import Foundation

/// The comparison table of a report: one row per run, ranked by a loss, with the runs'
/// key hyperparameters. The HTML page and the terminal print the same table.
public struct RunTable {
    /// A column of the table.
    public struct Column {
        public var title: String
        /// Numbers are right-aligned.
        public var isNumeric: Bool
        /// True for a hyperparameter whose value differs between runs: an axis of the experiment.
        public var varies: Bool
        /// One cell per row.
        public var cells: [String]
        /// For a hyperparameter column, the configuration value behind each cell.
        package var values: [JSONValue?] = []
    }

    /// The runs in rank order: lowest loss first, runs without that loss last.
    public let runs: [RunSummary]
    /// For each row, the run's position in the input (which sets its colour in the charts).
    public let inputIndices: [Int]
    /// The loss ranked by.
    public let metric: ReportMetric
    /// The summary columns.
    public let columns: [Column]
    /// The hyperparameter columns (see ``HyperparameterColumns``).
    public let hyperparameters: [Column]

    public init(runs: [RunSummary], metric: ReportMetric) {
        let order = runs.enumerated().sorted { a, b in
            switch (a.element.rankingLoss(metric), b.element.rankingLoss(metric)) {
            case let (x?, y?): return x != y ? x < y : a.offset < b.offset
            case (_?, nil): return true
            case (nil, _?): return false
            case (nil, nil): return a.offset < b.offset
            }
        }
        self.inputIndices = order.map(\.offset)
        let ranked = order.map(\.element)
        self.runs = ranked
        self.metric = metric

        func loss(_ v: Double?) -> String { v.map { HumanFormat.fixed($0, decimals: 4) } ?? "—" }
        func column(_ title: String, numeric: Bool = true, _ cell: (RunSummary) -> String?) -> Column {
            Column(title: title, isNumeric: numeric, varies: false, cells: ranked.map { cell($0) ?? "—" })
        }
        let bestVal = column("best val") { loss($0.bestValLoss?.loss) }
        let bestValStep = column("at step") { $0.bestValLoss.map { String($0.step) } }
        let finalVal = column("final val") { loss($0.finalValLoss) }
        let bestTrain = column("best train") { loss($0.bestTrainLoss?.loss) }
        let bestTrainStep = column("at step") { $0.bestTrainLoss.map { String($0.step) } }
        let finalTrain = column("final train") { loss($0.finalTrainLoss) }
        // The ranking loss leads; validation columns only when some run measured it.
        let anyVal = ranked.contains(where: \.hasValidation)
        var losses: [Column]
        if metric == .valLoss && anyVal {
            losses = [bestVal, bestValStep, finalVal, finalTrain]
        } else {
            losses = [bestTrain, bestTrainStep, finalTrain]
            if anyVal { losses += [bestVal, finalVal] }
        }
        // Columns nobody logged (tokens, time) are left out.
        let progress = [
            column("steps") { $0.lastStep.map(String.init) },
            column("tokens") { $0.tokens.map { HumanFormat.count(Double($0)) } },
            column("time") { $0.wallSeconds.map(HumanFormat.duration) },
        ].filter { $0.cells.contains { $0 != "—" } || ranked.isEmpty }
        columns = [
            Column(title: "#", isNumeric: true, varies: false, cells: ranked.indices.map { String($0 + 1) }),
            column("run", numeric: false) { $0.name },
        ] + losses + progress + [column("status", numeric: false) { $0.status }]
        hyperparameters = HyperparameterColumns.select(for: ranked)
    }

    /// The table as aligned plain text for a terminal: the summary columns, then the
    /// hyperparameters that differ between runs (or, for a single run, a few key ones).
    public func text() -> String {
        let varying = hyperparameters.filter(\.varies)
        let settings = varying.isEmpty ? Array(hyperparameters.prefix(4)) : varying
        // Settings come right after the run's name, as on the HTML page.
        let titles = RunTable.shortTitles(settings.map(\.title))
        let renamed = zip(settings, titles).map { column, title in
            Column(title: title, isNumeric: column.isNumeric, varies: column.varies, cells: column.cells, values: column.values)
        }
        let shown = Array(columns.prefix(2)) + renamed + Array(columns.dropFirst(2))
        let widths = shown.map { column in max(column.title.count, column.cells.map(\.count).max() ?? 0) }
        func pad(_ text: String, _ width: Int, right: Bool) -> String {
            let space = String(repeating: " ", count: max(0, width - text.count))
            return right ? space + text : text + space
        }
        func row(_ cells: [String]) -> String {
            var line = zip(zip(shown, widths), cells).map { pad($1, $0.1, right: $0.0.isNumeric) }.joined(separator: "  ")
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }
        var lines = [row(shown.map(\.title)), row(widths.map { String(repeating: "-", count: $0) })]
        for index in runs.indices { lines.append(row(shown.map { $0.cells[index] })) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The last part of each dotted key, or more of it where that would be ambiguous.
    public static func shortTitles(_ keys: [String]) -> [String] {
        let parts = keys.map { $0.split(separator: ".").map(String.init) }
        return parts.indices.map { i in
            var depth = 1
            while depth < parts[i].count {
                let mine = Array(parts[i].suffix(depth))
                let clash = parts.indices.contains { j in j != i && Array(parts[j].suffix(depth)) == mine }
                if !clash { break }
                depth += 1
            }
            return parts[i].suffix(depth).joined(separator: ".")
        }
    }
}

/// Picks the configuration keys worth a column: well-known hyperparameters (under any of
/// their usual names, at any nesting) and every other key whose value differs between runs.
public enum HyperparameterColumns {
    /// Column titles and the key names that fill them, first match wins.
    public static let known: [(title: String, keys: [String])] = [
        ("lr", ["lr", "learning_rate", "max_lr", "max_learning_rate", "peak_lr", "lr_max"]),
        ("batch_size", ["batch_size", "batch"]),
        ("optimizer", ["optimizer", "optimizer.name", "optimizer.type", "optimizer.kind"]),
        ("d_model", ["d_model", "n_embd", "dim"]),
        ("layers", ["num_layers", "n_layers", "n_layer"]),
        ("heads", ["num_heads", "n_heads", "n_head"]),
        ("context", ["context_length", "seq_len", "block_size"]),
        ("d_ff", ["d_ff"]),
        ("weight_decay", ["weight_decay"]),
        ("warmup", ["warmup_steps", "warmup_iters"]),
    ]

    /// Keys that describe where things are rather than how the run was set up.
    static func isBookkeeping(_ key: String, _ values: [JSONValue]) -> Bool {
        let last = key.split(separator: ".").last.map(String.init) ?? key
        let words = ["dir", "path", "file", "out", "name", "resume", "device", "threads", "interval", "every", "log"]
        if words.contains(where: { last == $0 || last.hasSuffix("_" + $0) || last.hasPrefix($0 + "_") }) { return true }
        return values.contains { $0.stringValue?.contains("/") == true }
    }

    /// The key in `config` that `candidates` names: an exact key, or a dotted key ending in it.
    static func resolve(_ candidates: [String], in config: [String: JSONValue]) -> String? {
        for candidate in candidates {
            if config[candidate] != nil { return candidate }
            if let match = config.keys.sorted().first(where: { $0.hasSuffix("." + candidate) }),
               !(config[match]?.objectValue != nil) {
                return match
            }
        }
        return nil
    }

    /// Text for a configuration value.
    package static func format(_ value: JSONValue?) -> String {
        guard let value else { return "—" }
        switch value {
        case .number(let x): return HumanFormat.compact(x.doubleValue, digits: 4)
        case .string(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .array, .object: return value.jsonText
        }
    }

    /// False for a setting named after a choice the run did not make: `optimizer.muon_lr`
    /// when the run's `optimizer.kind` is `adamw` and another run's is `muon`. A config that
    /// lists every setting with its default would otherwise show a Muon rate for an AdamW run.
    /// `choices` holds, per `kind` key, the values the runs chose.
    static func applies(_ key: String, in config: [String: JSONValue], choices: [String: Set<String>]) -> Bool {
        var path = key.split(separator: ".").map(String.init)
        guard let last = path.popLast(), let prefix = last.split(separator: "_").first.map(String.init),
              prefix != last else { return true }
        let kindKey = (path + ["kind"]).joined(separator: ".")
        guard let chosen = config[kindKey]?.stringValue, let options = choices[kindKey] else { return true }
        return chosen == prefix || !options.contains(prefix)
    }

    /// The hyperparameter columns for `runs`, in row order: known keys present in any run,
    /// then other keys that vary, at most `limit` in all. A cell is empty where its setting
    /// does not apply to the run (``applies(_:in:choices:)``).
    public static func select(for runs: [RunSummary], limit: Int = 16) -> [RunTable.Column] {
        var columns: [RunTable.Column] = []
        var used = Set<String>()
        let withConfig = runs.filter { !$0.config.isEmpty }
        var choices: [String: Set<String>] = [:]
        for run in withConfig {
            for (key, value) in run.config where key == "kind" || key.hasSuffix(".kind") {
                if let choice = value.stringValue { choices[key, default: []].insert(choice) }
            }
        }
        func value(of key: String?, in run: RunSummary) -> JSONValue? {
            guard let key, applies(key, in: run.config, choices: choices) else { return nil }
            return run.config[key]
        }
        // The values a key's variation is judged by: those of configured runs it applies to
        // (a Muon setting is not a difference between an AdamW run and a Muon run).
        func judged(_ key: String) -> [JSONValue?] {
            runs.filter { !$0.config.isEmpty && applies(key, in: $0.config, choices: choices) }.map { $0.config[key] }
        }
        func varies(_ values: [JSONValue?]) -> Bool {
            let present = values.compactMap { $0 }
            return Set(present.map(\.jsonText)).count > 1 || (present.count != values.count && !present.isEmpty)
        }
        for (title, keys) in known {
            let resolved = runs.map { resolve(keys, in: $0.config) }
            guard resolved.contains(where: { $0 != nil }) else { continue }
            let values = zip(runs, resolved).map { run, key in value(of: key, in: run) }
            let configured = values.enumerated().filter { !runs[$0.offset].config.isEmpty }.map(\.element)
            used.formUnion(resolved.compactMap { $0 })
            columns.append(RunTable.Column(title: title, isNumeric: values.allSatisfy { $0 == nil || $0?.metricValue != nil },
                                           varies: withConfig.count > 1 && varies(configured), cells: values.map(format),
                                           values: values))
        }
        if withConfig.count > 1 {
            let keys = Set(withConfig.flatMap(\.config.keys)).subtracting(used).sorted()
            for key in keys {
                let values = runs.map { value(of: key, in: $0) }
                guard varies(judged(key)),
                      !isBookkeeping(key, values.compactMap { $0 }) else { continue }
                let last = key.split(separator: ".").last.map(String.init) ?? key
                let title = RunSummary.plannedStepKeys.contains(last) ? "planned " + last.replacingOccurrences(of: "_", with: " ") : key
                columns.append(RunTable.Column(title: title, isNumeric: values.allSatisfy { $0 == nil || $0?.metricValue != nil },
                                               varies: true, cells: values.map(format), values: values))
            }
        }
        // Keep the varying columns when cutting down: they are what the experiment changed.
        if columns.count > limit {
            let varying = columns.filter(\.varies)
            let fixed = columns.filter { !$0.varies }
            columns = Array((varying + fixed).prefix(limit))
        }
        return columns
    }

    /// `runs` ordered by the numeric settings that differ between them (first such column
    /// first), so a sweep's legend and colours follow its axis (`lr` 1e-4, 3e-4, 1e-3 ...)
    /// whatever order the folders were named in. Runs without those settings keep their
    /// order, after the others; with no varying numeric setting the order is unchanged.
    public static func orderedBySettings(_ runs: [RunSummary]) -> [RunSummary] {
        let keys = select(for: runs).filter { $0.varies && $0.isNumeric }
        guard !keys.isEmpty else { return runs }
        let values = runs.indices.map { row in keys.map { $0.values[row]?.metricValue } }
        let order = runs.indices.sorted { a, b in
            for (x, y) in zip(values[a], values[b]) {
                switch (x, y) {
                case let (x?, y?) where x != y: return x < y
                case (_?, nil): return true
                case (nil, _?): return false
                default: continue
                }
            }
            return a < b
        }
        return order.map { runs[$0] }
    }
}
