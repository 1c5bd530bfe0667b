import AccordEvents
import AccordProjection
import Foundation

extension ReportPerspective {
    /// The perspective of `time`.
    init(_ time: ReplayTime) {
        var query = "asOf=\(time.asOf)"
        if let knownAt = time.knownAt { query += "&knownAt=\(knownAt)" }
        self.init(name: time.perspectiveName, headline: time.headline, description: time.perspective, asOf: time.asOf,
                  knownAt: time.knownAt, queryParameters: query)
    }
}

extension AuditReport {
    /// The report of a replayed view.
    public static func make(view: ReplayedView, storePath: String, replayStorePath: String?,
                            integrity: IntegritySummary, generatedAt: Timestamp? = nil) -> AuditReport {
        let time = view.time
        let snapshot = view.snapshot
        let complement = view.complement.snapshot
        let open = snapshot.flags.filter(\.open)

        var groups: [FlagGroup] = []
        let grouped = Dictionary(grouping: open) { GroupKey(accountable: $0.accountable, rule: $0.rule) }
        for key in grouped.keys.sorted() {
            let flags = (grouped[key] ?? []).sorted(by: Flag.precedes)
            guard let first = flags.first else { continue }
            groups.append(FlagGroup(accountable: key.accountable, accountableKind: first.accountableKind, rule: key.rule,
                                    flags: flags))
        }

        let late = LateRecordedSection(
            instant: time.asOf, events: view.lateEvents, comparedWith: ReportPerspective(time.complement),
            comparedDigest: view.complement.digest.hex,
            casesChanged: changedIds(snapshot.cases, complement.cases, id: \.caseId),
            contractsChanged: changedIds(snapshot.contracts, complement.contracts, id: \.contractId),
            flagsOnlyInThisView: onlyIn(snapshot.flags, notIn: complement.flags),
            flagsOnlyInComparedView: onlyIn(complement.flags, notIn: snapshot.flags))

        return AuditReport(
            perspective: ReportPerspective(time),
            generatedFrom: ReportSource(storePath: storePath, replayStorePath: replayStorePath,
                                        journalEntries: view.journal.count, lastPosition: view.journal.lastPosition,
                                        entriesInView: view.entriesInView, generatedAt: generatedAt),
            summary: ReportSummary(cases: snapshot.cases.count, openCases: snapshot.cases.filter { $0.status == .open }.count,
                                   openFlags: open.count, resolvedFlags: snapshot.flags.count - open.count,
                                   contracts: snapshot.contracts.count, areas: snapshot.areas.count,
                                   lateRecordedEvents: view.lateEvents.count),
            digest: view.view.digest.hex,
            openFlags: groups,
            cases: snapshot.cases.map(CaseLine.init),
            contracts: snapshot.contracts,
            areas: snapshot.areas,
            lateRecorded: late,
            integrity: integrity,
            rules: view.view.rules)
    }

    /// The report as pretty, sorted-key JSON.
    public func jsonBytes() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity",
                                                                      negativeInfinity: "-Infinity", nan: "NaN")
        return [UInt8](try encoder.encode(self))
    }

    /// Reads a report written by `jsonBytes()`.
    public init(json: Data) throws {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity",
                                                                        negativeInfinity: "-Infinity", nan: "NaN")
        self = try decoder.decode(AuditReport.self, from: json)
    }

    private struct GroupKey: Hashable, Comparable {
        let accountable: String
        let rule: FlagRule
        static func < (a: GroupKey, b: GroupKey) -> Bool { (a.accountable, a.rule.rawValue) < (b.accountable, b.rule.rawValue) }
    }

    /// Ids present in only one list, or whose values differ.
    private static func changedIds<T: Equatable>(_ a: [T], _ b: [T], id: KeyPath<T, String>) -> [String] {
        var left: [String: T] = [:]
        for item in a { left[item[keyPath: id]] = item }
        var right: [String: T] = [:]
        for item in b { right[item[keyPath: id]] = item }
        return Set(left.keys).union(right.keys).filter { left[$0] != right[$0] }.sorted()
    }

    /// Ids of flags in `a` that are not in `b` with the same value.
    private static func onlyIn(_ a: [Flag], notIn b: [Flag]) -> [String] {
        var other: [String: Flag] = [:]
        for flag in b { other[flag.id] = flag }
        return a.filter { other[$0.id] != $0 }.map(\.id).sorted()
    }
}
