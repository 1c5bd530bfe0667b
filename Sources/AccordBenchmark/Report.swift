import Foundation

/// What a figure is aimed at, and whether a measured row meets it.
public enum BenchTarget: Sendable, Hashable {
    /// A baseline or an informational figure: no target.
    case none
    /// The value must be at least this many units.
    case atLeast(Double, String)
    /// The value must be at most this many units.
    case atMost(Double, String)
    /// The ratio to the baseline must be at least this.
    case ratioAtLeast(Double, String)
    /// The ratio to the baseline must be at most this.
    case ratioAtMost(Double, String)
    /// The value must equal this number exactly (a count check).
    case equals(Double, String)

    /// The human-readable target, e.g. `≥ 100000 events/s`.
    public var text: String {
        switch self {
        case .none: "none"
        case .atLeast(let x, let unit): "≥ \(BenchRow.format(x)) \(unit)"
        case .atMost(let x, let unit): "≤ \(BenchRow.format(x)) \(unit)"
        case .ratioAtLeast(let x, let what): "\(what) ≥ \(BenchRow.format(x))"
        case .ratioAtMost(let x, let what): "\(what) ≤ \(BenchRow.format(x))"
        case .equals(let x, let unit): "= \(BenchRow.format(x)) \(unit)"
        }
    }

    func met(value: Double, ratio: Double?) -> Bool? {
        switch self {
        case .none: nil
        case .atLeast(let x, _): value >= x
        case .atMost(let x, _): value <= x
        case .ratioAtLeast(let x, _): ratio.map { $0 >= x }
        case .ratioAtMost(let x, _): ratio.map { $0 <= x }
        case .equals(let x, _): value == x
        }
    }
}

/// One figure of the benchmark report: a row of the table and an object of `bench.json`.
public struct BenchRow: Sendable, Hashable, Encodable {
    /// What was measured.
    public let figure: String
    /// The measured value (finite).
    public let value: Double
    /// The unit of `value`.
    public let unit: String
    /// The baseline it is compared with, in the same or the stated unit; nil when none.
    public let baseline: Double?
    /// `value / baseline`, nil without a baseline.
    public let ratio: Double?
    /// The target, as text.
    public let target: String
    /// Whether the target is met; nil without a target.
    public let met: Bool?

    /// A row; the ratio is computed from the baseline and `met` from the target. With `judged`
    /// false the target is shown but not judged (`met` is nil), e.g. when a value is only a bound.
    public init(_ figure: String, _ value: Double, _ unit: String, baseline: Double? = nil, target: BenchTarget = .none,
                judged: Bool = true) throws {
        guard value.isFinite else { throw BenchError("\(figure): the measured value is not a finite number") }
        self.figure = figure
        self.value = value
        self.unit = unit
        let usableBaseline = baseline.flatMap { $0.isFinite ? $0 : nil }
        self.baseline = usableBaseline
        if let usableBaseline, usableBaseline != 0, (value / usableBaseline).isFinite {
            ratio = value / usableBaseline
        } else {
            ratio = nil
        }
        self.target = judged ? target.text : target.text + " (not judged)"
        self.met = judged ? target.met(value: value, ratio: ratio) : nil
    }

    private enum CodingKeys: String, CodingKey { case figure, value, unit, baseline, ratio, target, met }

    /// Encodes every key, writing `null` for a missing baseline, ratio or verdict.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(figure, forKey: .figure)
        try container.encode(value, forKey: .value)
        try container.encode(unit, forKey: .unit)
        if let baseline { try container.encode(baseline, forKey: .baseline) } else { try container.encodeNil(forKey: .baseline) }
        if let ratio { try container.encode(ratio, forKey: .ratio) } else { try container.encodeNil(forKey: .ratio) }
        try container.encode(target, forKey: .target)
        if let met { try container.encode(met, forKey: .met) } else { try container.encodeNil(forKey: .met) }
    }

    /// A number for reading: integers as they are, others with three significant digits.
    public static func format(_ x: Double) -> String {
        if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
        let magnitude = abs(x)
        if magnitude >= 100 { return String(format: "%.0f", x) }
        if magnitude >= 10 { return String(format: "%.1f", x) }
        if magnitude >= 1 { return String(format: "%.2f", x) }
        return String(format: "%.3g", x)
    }
}

/// The facts a report is about: the machine, the build and the workload size.
public struct BenchFacts: Sendable {
    /// Processor cores available.
    public let cores: Int
    /// Physical memory in bytes.
    public let memoryBytes: UInt64
    /// `release` or `debug`.
    public let configuration: String
    /// The librdkafka version.
    public let librdkafka: String
    /// Events in the workload (N).
    public let events: Int
    /// Records produced (events and checkpoints).
    public let records: Int
    /// Whether this was a `--quick` run.
    public let quick: Bool
}

/// The benchmark's output: the table for people and the JSON rows for tools.
public struct BenchReport: Sendable {
    /// The facts.
    public let facts: BenchFacts
    /// The rows, in measuring order.
    public let rows: [BenchRow]

    /// Creates a report.
    public init(facts: BenchFacts, rows: [BenchRow]) {
        self.facts = facts
        self.rows = rows
    }

    /// `bench.json`: an array of the rows, keys sorted.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(rows)
    }

    /// The readable table with the machine facts above it.
    public func table() -> String {
        var lines: [String] = []
        lines.append("accord bench\(facts.quick ? " --quick" : ""): N = \(facts.events) events (\(facts.records) records with checkpoints)")
        lines.append("machine: \(facts.cores) cores, \(facts.memoryBytes / 1_048_576) MiB memory, \(facts.configuration) build, librdkafka \(facts.librdkafka)")
        lines.append("")
        let header = ["figure", "value", "unit", "baseline", "ratio", "target", "met"]
        let cells = rows.map { row in
            [row.figure, BenchRow.format(row.value), row.unit, row.baseline.map(BenchRow.format) ?? "—",
             row.ratio.map { BenchRow.format($0) } ?? "—", row.target, row.met.map { $0 ? "yes" : "NO" } ?? "—"]
        }
        var widths = header.map(\.count)
        for row in cells { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func render(_ row: [String]) -> String {
            row.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return (i == 1 || i == 3 || i == 4) ? pad + cell : cell + pad
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        lines.append(render(header))
        lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        lines += cells.map(render)
        let judged = rows.filter { $0.met != nil }
        lines.append("")
        lines.append("targets met: \(judged.filter { $0.met == true }.count) of \(judged.count)")
        return lines.joined(separator: "\n")
    }
}
