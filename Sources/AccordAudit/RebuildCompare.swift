import AccordEvents
import AccordProjection
import AccordStore
import Foundation

/// One way the rebuilt view and the live store disagree.
public struct RebuildDifference: Sendable, Codable, Equatable, CustomStringConvertible {
    /// What kind of difference.
    public enum Kind: String, Sendable, Codable, Equatable {
        /// The rebuilt view has a row the live store lacks.
        case missingRow = "missing-row"
        /// The live store has a row the rebuilt view does not.
        case extraRow = "extra-row"
        /// Both have the row, with different documents.
        case differentRow = "different-row"
        /// The live row describes an instant before the latest event and disagrees with the view at
        /// that instant (the projector re-renders a row only when its own subject changes, so a
        /// contract row can miss referrals consumed after it was written).
        case staleRow = "stale-row"
        /// Both have the row, with a different area column.
        case differentArea = "different-area"
        /// The digests of all rows differ.
        case rowsDigest = "rows-digest"
        /// The view digests differ.
        case viewDigest = "view-digest"
        /// An event of the live journal that the rebuild did not find.
        case journalMissing = "journal-missing"
        /// An event the rebuild found that the live journal does not have.
        case journalExtra = "journal-extra"
        /// An event whose record differs between the live journal and the rebuild.
        case journalDifferent = "journal-different"
        /// A record or journal entry that could not be used.
        case refused
    }

    /// What kind of difference.
    public var kind: Kind
    /// `case_view`, `contract_view`, `journal` or nil for whole-view differences.
    public var table: String?
    /// The row or event id concerned.
    public var id: String
    /// What differs.
    public var detail: String

    public var description: String {
        "\(kind.rawValue)\(table.map { " \($0)" } ?? "") \(id): \(detail)"
    }
}

/// How a rebuilt view compares with the live store.
///
/// Each live row is compared with the rebuilt document rendered at the instant the live row
/// says it describes (its `asOf`): the projector re-renders a row only when its own subject
/// changes, so rows of quiet subjects legitimately describe an earlier instant than the latest
/// event. Such rows are counted as `staleRows`, not as differences. Rows the live store lacks
/// are rendered at the latest event time.
public struct RebuildComparison: Sendable {
    /// Every difference found (empty: the live store agrees with the rebuild).
    public var differences: [RebuildDifference]
    /// Live rows compared.
    public var rowsCompared: Int
    /// Live rows that describe an instant before the latest event time (compared as of their own instant).
    public var staleRows: Int
    /// Digest of the live rows (table, id, area, document).
    public var liveRowsDigest: String
    /// Digest of the rows the rebuild expects in their place.
    public var expectedRowsDigest: String
    /// View digest of the live journal (the live view is rebuilt from it at projector start).
    public var liveViewDigest: String
    /// View digest of the rebuild, at the same instant.
    public var rebuiltViewDigest: String
    /// The instant both view digests are taken at.
    public var digestAsOf: Timestamp?

    /// Whether nothing differs.
    public var passed: Bool { differences.isEmpty }
}

/// What the live store holds: its rows and, when needed, the view of its journal.
struct LiveView {
    var cases: [ViewDocument]
    var contracts: [ViewDocument]
    /// Event id → record fingerprint of the live journal.
    var fingerprints: [String: String]
    /// The live journal's view, when built.
    var state: ProjectionState?
    var latest: Timestamp?
    var undecodable: [String]

    static func read(reader: StoreAuditReader, rules: ProjectionRules, needsState: Bool) throws -> LiveView {
        var fingerprints: [String: String] = [:]
        var state = needsState ? ProjectionState(rules: rules) : nil
        var latest: Timestamp?
        var undecodable: [String] = []
        let codec = EventCodec()
        try reader.forEachJournalEntry { entry in
            fingerprints[entry.eventId] = Rebuild.fingerprint(entry)
            guard state != nil else { return }
            do {
                let event = try entry.consumerRecord.decodeEvent(codec: codec)
                state?.apply(event, recordedAt: entry.recordedInstant(fallback: event.time))
                latest = max(latest ?? event.time, event.time)
            } catch {
                undecodable.append("journal position \(entry.position) (event \(entry.eventId)) does not decode: \(error)")
            }
        }
        return LiveView(cases: try reader.caseDocuments(), contracts: try reader.contractDocuments(),
                        fingerprints: fingerprints, state: state, latest: latest, undecodable: undecodable)
    }
}

extension RebuildComparison {
    static func make(live: LiveView, reader: StoreAuditReader, built: Rebuild.Built, source: RebuildSource) -> RebuildComparison {
        var differences: [RebuildDifference] = []
        var stale = 0
        var liveRows: [String] = []
        var expectedRows: [String] = []
        let latest = built.latest
        let documents = latest.map { ViewDocuments(state: built.state, asOf: $0) }

        func row(_ table: String, _ document: ViewDocument) -> String {
            "\(table)\u{0}\(document.id)\u{0}\(document.area ?? "")\u{0}\(String(decoding: document.json, as: UTF8.self))"
        }

        func compare(table: String, live rows: [ViewDocument], rebuiltIds: [String],
                     render: (String, Timestamp?) -> ViewDocument?) {
            var seen: Set<String> = []
            for document in rows {
                seen.insert(document.id)
                liveRows.append(row(table, document))
                let instant = Self.asOf(of: document.json)
                guard let instant else {
                    differences.append(RebuildDifference(kind: .differentRow, table: table, id: document.id,
                                                         detail: "the live document has no readable asOf"))
                    continue
                }
                if let latest, instant < latest { stale += 1 }
                guard let expected = render(document.id, instant) else {
                    differences.append(RebuildDifference(kind: .extraRow, table: table, id: document.id,
                                                         detail: "not in the rebuilt view as of \(instant)"))
                    continue
                }
                expectedRows.append(row(table, expected))
                if expected.json != document.json {
                    let detail = JSONDifference.describe(live: document.json, rebuilt: expected.json)
                    if let latest, instant < latest {
                        differences.append(RebuildDifference(
                            kind: .staleRow, table: table, id: document.id,
                            detail: "out of date (describes \(instant), latest event \(latest)) and differs from the view at \(instant): \(detail)"))
                    } else {
                        differences.append(RebuildDifference(kind: .differentRow, table: table, id: document.id, detail: detail))
                    }
                } else if expected.area != document.area {
                    differences.append(RebuildDifference(kind: .differentArea, table: table, id: document.id,
                                                         detail: "area column \(document.area ?? "NULL") ≠ rebuilt \(expected.area ?? "NULL")"))
                }
            }
            for id in rebuiltIds where !seen.contains(id) {
                if let expected = render(id, nil) { expectedRows.append(row(table, expected)) }
                differences.append(RebuildDifference(kind: .missingRow, table: table, id: id,
                                                     detail: "in the rebuilt view as of \(latest?.description ?? "-") but not in the live store"))
            }
        }
        compare(table: "case_view", live: live.cases, rebuiltIds: built.cases) { id, instant in
            documents?.caseDocument(id, asOf: instant)
        }
        compare(table: "contract_view", live: live.contracts, rebuiltIds: built.contracts) { id, instant in
            documents?.contractDocument(id, asOf: instant)
        }
        let liveRowsDigest = ViewDigest.fnv1a128(Array(liveRows.sorted().joined(separator: "\n").utf8))
        let expectedRowsDigest = ViewDigest.fnv1a128(Array(expectedRows.sorted().joined(separator: "\n").utf8))
        if liveRowsDigest != expectedRowsDigest {
            differences.append(RebuildDifference(kind: .rowsDigest, table: nil, id: "rows",
                                                 detail: "live rows digest \(liveRowsDigest) ≠ rebuilt \(expectedRowsDigest)"))
        }

        // The events: every live journal event must be in the rebuild, with the same record.
        if source != .journal {
            for (id, print) in live.fingerprints.sorted(by: { $0.key < $1.key }) {
                switch built.fingerprints[id] {
                case nil:
                    differences.append(RebuildDifference(kind: .journalMissing, table: "journal", id: id,
                                                         detail: "in the live journal, not found by the rebuild"))
                case let other? where other != print:
                    differences.append(RebuildDifference(kind: .journalDifferent, table: "journal", id: id,
                                                         detail: "the record differs (topic, partition, offset, timestamp, key, headers or value)"))
                default:
                    break
                }
            }
            for id in built.fingerprints.keys.sorted() where live.fingerprints[id] == nil {
                differences.append(RebuildDifference(kind: .journalExtra, table: "journal", id: id,
                                                     detail: "found by the rebuild, not in the live journal"))
            }
        }
        for problem in built.refused + live.undecodable {
            differences.append(RebuildDifference(kind: .refused, table: nil, id: "-", detail: problem))
        }

        // The whole view, at one instant.
        let instant = [latest, live.latest].compactMap { $0 }.max()
        let rebuiltDigest = instant.map { built.state.digest(asOf: $0) } ?? ""
        var liveDigest = rebuiltDigest
        if let state = live.state {
            liveDigest = instant.map { state.digest(asOf: $0) } ?? ""
            if liveDigest != rebuiltDigest {
                differences.append(RebuildDifference(kind: .viewDigest, table: nil, id: "view",
                                                     detail: "live journal view digest \(liveDigest) ≠ rebuilt \(rebuiltDigest) as of \(instant?.description ?? "-")"))
            }
        }
        return RebuildComparison(differences: differences, rowsCompared: live.cases.count + live.contracts.count,
                                 staleRows: stale, liveRowsDigest: liveRowsDigest, expectedRowsDigest: expectedRowsDigest,
                                 liveViewDigest: liveDigest, rebuiltViewDigest: rebuiltDigest, digestAsOf: instant)
    }

    /// The `asOf` a stored document says it describes.
    static func asOf(of json: [UInt8]) -> Timestamp? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json)) as? [String: Any],
              let text = object["asOf"] as? String else { return nil }
        return Timestamp(rfc3339: text)
    }
}

/// Describes how two JSON documents differ, by the paths of their first differing values.
enum JSONDifference {
    static func describe(live: [UInt8], rebuilt: [UInt8], limit: Int = 5) -> String {
        guard let a = try? JSONSerialization.jsonObject(with: Data(live), options: [.fragmentsAllowed]),
              let b = try? JSONSerialization.jsonObject(with: Data(rebuilt), options: [.fragmentsAllowed]) else {
            return "the live document is not valid JSON"
        }
        var paths: [String] = []
        diff(a, b, path: "", into: &paths, limit: limit)
        if paths.isEmpty { return "same content, different bytes" }
        return paths.joined(separator: "; ")
    }

    private static func diff(_ a: Any, _ b: Any, path: String, into out: inout [String], limit: Int) {
        guard out.count < limit else { return }
        switch (a, b) {
        case let (x as [String: Any], y as [String: Any]):
            for key in Set(x.keys).union(y.keys).sorted() {
                let sub = path.isEmpty ? key : "\(path).\(key)"
                switch (x[key], y[key]) {
                case let (l?, r?): diff(l, r, path: sub, into: &out, limit: limit)
                case (nil, let r?): out.append("\(sub): missing in live, rebuilt \(short(r))")
                case (let l?, nil): out.append("\(sub): live \(short(l)), missing in rebuilt")
                default: break
                }
                if out.count >= limit { return }
            }
        case let (x as [Any], y as [Any]):
            if x.count != y.count { out.append("\(path): \(x.count) items in live, \(y.count) rebuilt") }
            for (i, pair) in zip(x, y).enumerated() {
                diff(pair.0, pair.1, path: "\(path)[\(i)]", into: &out, limit: limit)
                if out.count >= limit { return }
            }
        default:
            if text(a) != text(b) { out.append("\(path): live \(short(a)), rebuilt \(short(b))") }
        }
    }

    private static func text(_ value: Any) -> String {
        if let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]) {
            return String(decoding: data, as: UTF8.self)
        }
        return "\(value)"
    }

    private static func short(_ value: Any) -> String {
        let text = text(value)
        return text.count > 80 ? String(text.prefix(77)) + "…" : text
    }
}
