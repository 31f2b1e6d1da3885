import Foundation

/// A hyperparameter grid: every combination of the values given for each key, in order
/// (the last key varies fastest), each with a run name built from its settings.
///
/// ```swift
/// let grid = try SweepGrid(parsing: ["optimizer.lr=1e-4,3e-4", "batch_size=16,32"])
/// grid.points.map(\.name)   // ["lr=1e-4,batch_size=16", "lr=1e-4,batch_size=32", ...]
/// ```
public struct SweepGrid: Equatable, Sendable {
    /// One key and the values it takes.
    public struct Axis: Equatable, Sendable {
        /// The dotted config key.
        public let key: String
        /// The values as written.
        public let values: [String]
    }

    /// One combination: a run.
    public struct Point: Equatable, Sendable {
        /// The run's directory name, e.g. `lr=3e-4,batch_size=16`.
        public let name: String
        /// The settings of this run, one per axis.
        public let overrides: [ConfigOverride]
    }

    public let axes: [Axis]

    /// Parses `--grid key=v1,v2,...` arguments. A value in brackets may hold commas
    /// (`optimizer.betas=[0.9,0.95],[0.9,0.99]`).
    /// - Throws: ``TrainingConfigError/malformedOverride(option:argument:reason:)``.
    public init(parsing arguments: [String]) throws(TrainingConfigError) {
        var axes: [Axis] = []
        for argument in arguments {
            let pair = try ConfigOverride(parsing: argument, option: "--grid")
            let values = Self.splitValues(pair.value)
            guard !values.isEmpty, !values.contains(where: \.isEmpty) else {
                throw .malformedOverride(option: "--grid", argument: argument, reason: "expected comma-separated values after '=', e.g. optimizer.lr=1e-4,3e-4")
            }
            if axes.contains(where: { $0.key == pair.key }) {
                throw .malformedOverride(option: "--grid", argument: argument, reason: "\(pair.key) is already a grid axis; list all its values in one --grid")
            }
            if Set(values).count != values.count {
                throw .malformedOverride(option: "--grid", argument: argument, reason: "a value is listed twice")
            }
            axes.append(Axis(key: pair.key, values: values))
        }
        self.axes = axes
    }

    /// Every combination, first axis slowest.
    public var points: [Point] {
        var combos: [[ConfigOverride]] = [[]]
        for axis in axes {
            combos = combos.flatMap { prefix in axis.values.map { prefix + [ConfigOverride(key: axis.key, value: $0, option: "--grid")] } }
        }
        let labels = Self.labels(for: axes.map(\.key))
        return combos.map { overrides in
            let name = zip(labels, overrides).map { "\($0)=\(Self.fileSafe($1.value))" }.joined(separator: ",")
            return Point(name: name.isEmpty ? "run" : name, overrides: overrides)
        }
    }

    /// Short labels: each key's last part (`lr`), or more parts where two keys would clash.
    static func labels(for keys: [String]) -> [String] {
        var depth = 1
        while true {
            let labels = keys.map { $0.split(separator: ".").suffix(depth).joined(separator: ".") }
            let maxDepth = keys.map { $0.split(separator: ".").count }.max() ?? 1
            if Set(labels).count == labels.count || depth >= maxDepth { return labels }
            depth += 1
        }
    }

    /// A value usable in a folder name: `/` and spaces become `_`.
    static func fileSafe(_ value: String) -> String {
        String(value.map { $0 == "/" || $0 == " " ? "_" : $0 })
    }

    /// Splits on commas outside brackets.
    static func splitValues(_ text: String) -> [String] {
        var values: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            switch character {
            case "[", "{": depth += 1; current.append(character)
            case "]", "}": depth -= 1; current.append(character)
            case "," where depth == 0:
                values.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
            default: current.append(character)
            }
        }
        values.append(current.trimmingCharacters(in: .whitespaces))
        return values
    }
}
