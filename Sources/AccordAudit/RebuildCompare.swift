import AccordEvents
import AccordIntegrity
import AccordProjection
import AccordStore
import Foundation

/// One way the rebuilt view and the live store disagree.
public struct RebuildDifference: Sendable, Codable, Equatable, CustomStringConvertible {
    /// What kind of difference.
    public enum Kind: String, Sendable, Codable, Equatable {
        /// The rebuilt view has a subject the live view lacks.
        case missingSubject = "missing-subject"
        /// The live view has a subject the rebuilt view does not.
        case extraSubject = "extra-subject"
        /// Both have the subject, with different records (leaf hashes).
        case differentSubject = "different-subject"
        /// The view digests differ.
        case viewDigest = "view-digest"
        /// A serving row (what queries read) the live store lacks.
        case missingRow = "missing-row"
        /// A serving row the live store has and the rebuild does not.
        case extraRow = "extra-row"
        /// A serving row that differs; the detail names the columns.
        case differentRow = "different-row"
        /// An event of the live journal that the rebuild did not find.
        case journalMissing = "journal-missing"
        /// An event of the live journal at an offset the broker no longer holds (retention), so a
        /// rebuild from Kafka cannot find it.
        case pastRetention = "past-retention"
        /// An event the rebuild found that the live journal does not have.
        case journalExtra = "journal-extra"
        /// An event whose record differs between the live journal and the rebuild.
        case journalDifferent = "journal-different"
    }

    /// What kind of difference.
    public var kind: Kind
    /// The subject key (`case:X123456`) or event id concerned.
    public var id: String
    /// What differs.
    public var detail: String

    public var description: String { "\(kind.rawValue) \(id): \(detail)" }
}

/// How a rebuilt view compares with the live store: subject by subject (the digest tree's leaves),
/// every serving row (what queries read: flag index, counters, case and contract rows, facts),
/// the view digests, and the journals event by event (by id and event hash).
public struct RebuildComparison: Sendable {
    /// Every difference found (empty: the live store agrees with the rebuild).
    public var differences: [RebuildDifference]
    /// Subjects compared.
    public var subjectsCompared: Int
    /// Serving rows compared (flag index, counters, case and contract rows, facts).
    public var rowsCompared: Int
    /// Journal events compared.
    public var eventsCompared: Int
    /// Events of the live journal the rebuild does not have.
    public var missingFromRebuild: Int
    /// The live view digest.
    public var liveViewDigest: String
    /// The rebuilt view digest.
    public var rebuiltViewDigest: String

    /// Whether nothing differs.
    public var passed: Bool { differences.isEmpty }

    static func make(live: StoreAuditReader, rebuilt: StoreAuditReader, source: RebuildSource,
                     rules: ProjectionRules, unheld: [UnheldRange] = []) throws -> RebuildComparison {
        var differences: [RebuildDifference] = []
        // The live projector computes its leaves lazily (at its next digest); compare the view
        // as it is, not as it was at that projector's last digest.
        let (liveLeaves, liveRoot) = try live.store.currentViewDigest(rules: rules)
        let (builtLeaves, builtRoot) = try rebuilt.store.currentViewDigest(rules: rules)
        for key in Set(liveLeaves.keys).union(builtLeaves.keys).sorted() {
            switch (liveLeaves[key], builtLeaves[key]) {
            case (nil, _?):
                differences.append(RebuildDifference(kind: .missingSubject, id: key, detail: "in the rebuilt view only"))
            case (_?, nil):
                differences.append(RebuildDifference(kind: .extraSubject, id: key, detail: "in the live view only"))
            case let (a?, b?) where a != b:
                differences.append(RebuildDifference(kind: .differentSubject, id: key, detail: "live leaf \(a), rebuilt \(b)"))
            default:
                break
            }
        }
        var rowsCompared = 0
        for (table, _) in ServingTables.all {
            let liveRows = try live.rowDigests(of: table)
            let builtRows = try rebuilt.rowDigests(of: table)
            rowsCompared += Set(liveRows.keys).union(builtRows.keys).count
            for key in Set(liveRows.keys).union(builtRows.keys).sorted() {
                let id = "\(table) \(key)"
                switch (liveRows[key], builtRows[key]) {
                case (nil, _?):
                    differences.append(RebuildDifference(kind: .missingRow, id: id, detail: "in the rebuilt store only"))
                case (_?, nil):
                    differences.append(RebuildDifference(kind: .extraRow, id: id, detail: "in the live store only"))
                case let (a?, b?) where a != b:
                    let liveColumns = try live.row(of: table, key: key)
                    let builtColumns = Dictionary(try rebuilt.row(of: table, key: key).map { ($0.column, $0.value) },
                                                  uniquingKeysWith: { a, _ in a })
                    let changed = liveColumns.filter { builtColumns[$0.column] != $0.value }.map {
                        "\($0.column): live \($0.value.prefix(80)), rebuilt \((builtColumns[$0.column] ?? "none").prefix(80))"
                    }
                    differences.append(RebuildDifference(kind: .differentRow, id: id, detail: changed.joined(separator: "; ")))
                default:
                    break
                }
            }
        }
        let liveDigest = liveRoot.hex
        let builtDigest = builtRoot.hex
        if liveDigest != builtDigest {
            differences.append(RebuildDifference(kind: .viewDigest, id: "view", detail: "live \(liveDigest), rebuilt \(builtDigest)"))
        }
        let liveEvents = try live.store.journalEventHashes()
        let builtEvents = try rebuilt.store.journalEventHashes()
        var missing = 0
        // Live events at offsets the broker dropped are named as such, not as lost.
        var gone: [String: String] = [:]
        if !unheld.isEmpty {
            let until = Dictionary(unheld.map { ("\($0.topic)/\($0.partition)", $0.until) }, uniquingKeysWith: max)
            try live.store.forEachJournalEntry { entry in
                guard entry.isInView(), let limit = until["\(entry.topic)/\(entry.partition)"], entry.offset < limit else { return }
                gone[entry.eventId.lowercased()] = "\(entry.topic)/\(entry.partition)@\(entry.offset)"
            }
        }
        for (id, hash) in liveEvents.sorted(by: { $0.key < $1.key }) {
            let text = id
            guard let other = builtEvents[id] else {
                missing += 1
                if let place = gone[id.lowercased()] {
                    differences.append(RebuildDifference(kind: .pastRetention, id: text,
                                                         detail: "at \(place), which the broker no longer holds"))
                } else {
                    differences.append(RebuildDifference(kind: .journalMissing, id: text, detail: "not found by the rebuild from the \(source.name)"))
                }
                continue
            }
            if other != hash {
                differences.append(RebuildDifference(kind: .journalDifferent, id: text, detail: "the record differs (event hash)"))
            }
        }
        for id in builtEvents.keys.sorted() where liveEvents[id] == nil {
            differences.append(RebuildDifference(kind: .journalExtra, id: id, detail: "not in the live journal"))
        }
        return RebuildComparison(differences: differences, subjectsCompared: Set(liveLeaves.keys).union(builtLeaves.keys).count,
                                 rowsCompared: rowsCompared,
                                 eventsCompared: liveEvents.count, missingFromRebuild: missing,
                                 liveViewDigest: liveDigest, rebuiltViewDigest: builtDigest)
    }
}
