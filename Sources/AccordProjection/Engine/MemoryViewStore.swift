import AccordEvents
import AccordIntegrity

/// A view store held in memory: every subject's facts, referral rows, sequences and the digest
/// tree, updated from `ViewChanges`. Backs `ProjectionState` (tests, small replays) and is the
/// reference the stored views are compared with.
public struct MemoryViewStore: ViewFactsReader, Sendable {
    var cases: [String: FactList] = [:]
    var contracts: [String: FactList] = [:]
    var areas: [String: FactList] = [:]
    var sequences: [String: SourceSequence] = [:]
    var sourceEvents: [String: [(event: SourceEvent, recordedAt: Timestamp)]] = [:]
    var rows: [String: [ReferralKey: ReferralRow]] = [:]
    var flags: [String: FlagRecord] = [:]
    var buckets: [Int: [String: Hash256]] = [:]
    var tree = ViewTree()

    /// An empty store.
    public init() {}

    /// Writes one batch's changes (and records the source events of the batch for "as shown";
    /// `retracted` are the events a retraction took out, forgotten again).
    public mutating func write(_ changes: ViewChanges, events: [IncomingEvent], retracted: [IncomingEvent] = []) throws {
        for removed in changes.removedCaseFacts {
            cases[removed.caseId]?.remove(id: removed.eventId)
            if cases[removed.caseId]?.isEmpty == true { cases[removed.caseId] = nil }
        }
        for subject in changes.removedStates {
            switch subject {
            case .caseId: continue
            case .contract(let id): contracts[id] = nil
            case .area(let id): areas[id] = nil
            case .source(let urn): sequences[urn] = nil
            }
        }
        for e in retracted {
            let id = e.event.idString
            sourceEvents[e.event.source.urn]?.removeAll { $0.event.eventId == id }
            if sourceEvents[e.event.source.urn]?.isEmpty == true { sourceEvents[e.event.source.urn] = nil }
        }
        for fact in changes.caseFacts {
            let subject = fact.payload.subjectId
            var r = BinaryReader(FactCoding.bytes(fact, subject: subject))
            cases[subject, default: FactList()].insert(try FactCoding.read(&r, subject: subject))
        }
        for (id, bytes) in changes.contractStates { contracts[id] = try SubjectStateCoding.decodeFacts(bytes, subject: id) }
        for (id, bytes) in changes.areaStates { areas[id] = try SubjectStateCoding.decodeFacts(bytes, subject: id) }
        for (urn, bytes) in changes.sourceStates {
            guard let source = EventSource(urn: urn) else { continue }
            sequences[urn] = try SubjectStateCoding.decodeSequence(bytes, source: source)
        }
        for e in events {
            sourceEvents[e.event.source.urn, default: []].append(
                (SourceEvent(sequence: e.event.sequence, time: e.event.time, eventId: e.event.idString), e.recordedAt))
        }
        for (key, change) in changes.referrals {
            if let old = change.old { rows[old.contractId]?[key] = nil }
            if let new = change.new { rows[new.contractId, default: [:]][key] = new }
        }
        for (id, change) in changes.flags { flags[id] = change.new }
    }

    /// Writes the digest leaves of subjects (nil: no longer in the view) and updates the tree.
    public mutating func write(leaves: [SubjectKey: Hash256?]) {
        var changed: Set<Int> = []
        for (key, leaf) in leaves {
            let bucket = ViewTree.bucket(of: key.description)
            buckets[bucket, default: [:]][key.description] = leaf
            changed.insert(bucket)
        }
        for bucket in changed {
            tree.setBucket(bucket, leaves: (buckets[bucket] ?? [:]).map { (key: $0.key, leaf: $0.value) })
        }
    }

    /// The current view digest.
    public mutating func root() -> Hash256 { tree.root() }

    // MARK: ViewStateSource

    public func caseFacts(_ caseId: String) throws -> FactList? { cases[caseId] }
    public func contractFacts(_ contractId: String) throws -> FactList? { contracts[contractId] }
    public func areaFacts(_ area: String) throws -> FactList? { areas[area] }
    public func sourceSequence(_ urn: String) throws -> SourceSequence? { sequences[urn] }
    public func referralRows(contractId: String) throws -> [ReferralRow] {
        (rows[contractId] ?? [:]).sorted { $0.key < $1.key }.map(\.value)
    }

    // MARK: ViewFactsReader

    public func allCaseIds() throws -> [String] { cases.keys.sorted() }
    public func allContractIds() throws -> [String] {
        Set(contracts.keys).union(rows.filter { !$0.value.isEmpty }.keys).sorted()
    }
    public func allAreaIds() throws -> [String] { areas.keys.sorted() }
    public func allSources() throws -> [String] { sourceEvents.keys.sorted() }
    public func sourceEvents(_ urn: String, knownAt: Timestamp?) throws -> [SourceEvent] {
        (sourceEvents[urn] ?? []).filter { e in knownAt.map { e.recordedAt <= $0 } ?? true }.map(\.event)
    }

    /// Every flag record of the view: those stored from the engine's changes, and the
    /// sequence-gap flags derived from the sources' sequences.
    public var flagRecords: [FlagRecord] { Array(flags.values) + sequences.values.flatMap { $0.flagRecords() } }
}
