import AccordEvents
import AccordIntegrity

/// An event to apply, with when it was written to Kafka.
public struct IncomingEvent: Sendable {
    /// The event.
    public var event: AccordEvent
    /// Its Kafka record timestamp.
    public var recordedAt: Timestamp

    /// Creates an incoming event.
    public init(_ event: AccordEvent, recordedAt: Timestamp) {
        self.event = event
        self.recordedAt = recordedAt
    }
}

/// Applies batches of events to the view held in a store. The single writer of a view owns one
/// engine. It keeps a bounded cache of the subjects it touched; everything else is read from the
/// store (`ViewStateSource`) when needed. `apply` computes what the batch changes — new facts,
/// flags, referral rows, summaries, and which subjects' digest leaves are stale — without I/O of
/// its own and without a clock; the caller writes the changes in its transaction, then calls
/// `commit()` (or `discard()` when the transaction failed, so the cache never runs ahead of the
/// store). `leaves(for:from:)` computes the digest leaves of stale subjects when a checkpoint needs
/// the view digest.
///
/// A fact that comes after every other fact of its case (the usual case) is folded in place; any
/// other fact folds the case again from its facts. The cost of a batch is proportional to the
/// subjects it touches (and, when a contract's terms change, to the cases referred under it),
/// never to the size of the view.
public struct ProjectionEngine: Sendable {
    /// The thresholds of the rules.
    public let rules: ProjectionRules
    /// Most case entries kept in the cache.
    public let caseCapacity: Int

    struct CaseEntry: Sendable {
        var facts: FactList
        var fold: CaseFold
        /// The outputs last written for the case (nil: none).
        var indexed: CaseIndexed?
        var lastUse: UInt64 = 0
    }

    struct ContractEntry: Sendable {
        var facts: FactList
        var fold: ContractFold
        var series: ContractSeries
        /// Referrals per case, and per provider (for the fallback provider of an unawarded contract).
        var cases: [String: Int]
        var providers: [String: Int]
        var record: ContractRecord?

        var referenced: Bool { !cases.isEmpty }
        var fallbackProvider: String? { providers.filter { $0.value > 0 }.keys.min() }
        var exists: Bool { !facts.isEmpty || referenced }
        /// The fold, when the contract is awarded in the view.
        var folded: ContractFold? { fold.versions.isEmpty ? nil : fold }
    }

    struct AreaEntry: Sendable {
        var facts: FactList
        var record: AreaRecord?
    }

    /// A source's sequence numbers. Its sequence-gap flags are not part of `ViewChanges`: they
    /// are a function of the runs, which the store keeps, so readers derive them (during a
    /// catch-up a source read from many partitions has thousands of gaps that open and close).
    struct SourceEntry: Sendable {
        var sequence: SourceSequence
    }

    private var cases: [String: CaseEntry] = [:]
    private var contracts: [String: ContractEntry] = [:]
    /// Committed folds of contracts (nil: not awarded), for deriving what a case's stored outputs were.
    private var contractFolds: [String: ContractFold?] = [:]
    private var areas: [String: AreaEntry] = [:]
    private var sources: [String: SourceEntry] = [:]
    private var clock: UInt64 = 0

    // Working copies of the batch being applied (merged by `commit`).
    private var pendingCases: [String: CaseEntry] = [:]
    private var pendingContracts: [String: ContractEntry] = [:]
    private var pendingAreas: [String: AreaEntry] = [:]
    private var pendingSources: [String: SourceEntry] = [:]

    /// An engine with an empty cache.
    public init(rules: ProjectionRules = .defaults, caseCapacity: Int = 50_000) {
        self.rules = rules
        self.caseCapacity = max(caseCapacity, 16)
    }

    /// Number of cases in the cache.
    public var cachedCases: Int { cases.count }

    // MARK: batch

    /// Computes what applying `batch` changes. Events must be new to the view (the journal
    /// deduplicates by id); a fact already in its subject's state is ignored.
    public mutating func apply(_ batch: [IncomingEvent], from store: some ViewStateSource) throws -> ViewChanges {
        discard()
        var changes = ViewChanges()
        var touched = Touched()

        // Facts in canonical order within the batch, so most of them append.
        var facts = batch.map { Fact($0.event, recordedAt: $0.recordedAt) }
        facts.sort { $0.key < $1.key }
        for fact in facts {
            changes.latestEventTime = max(changes.latestEventTime ?? fact.time, fact.time)
            let subject = fact.payload.subjectId
            var inserted = false
            switch fact.payload.kind.subjectKind {
            case .caseId:
                var entry = try takeCase(subject, store)
                let appends = entry.facts.lastKey.map { $0 < fact.key } ?? true
                inserted = entry.facts.insert(fact)
                if inserted {
                    if !appends || !entry.fold.append(fact) { touched.refold.insert(subject) }
                    changes.caseFacts.append(fact)
                    touched.cases.insert(subject)
                }
                pendingCases[subject] = entry
            case .contractId:
                var entry = try takeContract(subject, store)
                inserted = entry.facts.insert(fact)
                if inserted {
                    let fold = ContractFold(contractId: subject, facts: entry.facts.facts)
                    if fold.versions != entry.fold.versions || fold.ended?.at != entry.fold.ended?.at
                        || fold.awardEventId != entry.fold.awardEventId {
                        touched.termsChanged.insert(subject)
                    }
                    entry.fold = fold
                    touched.contracts.insert(subject)
                }
                pendingContracts[subject] = entry
            case .area:
                var entry = try takeArea(subject, store)
                inserted = entry.facts.insert(fact)
                pendingAreas[subject] = entry
                if inserted { touched.areas.insert(subject) }
            }
            guard inserted else { continue }
            changes.applied += 1
            let urn = fact.source.urn
            var source = try takeSource(fact.source, store)
            if source.sequence.insert(sequence: fact.key.sequence, at: fact.time, eventId: fact.eventId) {
                touched.sources.insert(urn)
            }
            pendingSources[urn] = source
        }

        try derive(&touched, store, &changes)
        return changes
    }

    /// Computes what taking `events` back out of the view changes: each event's fact leaves its
    /// subject, which is derived again (a subject left with no facts leaves the view), and the
    /// sources the events claimed get the sequence runs in `sequences`, counted again by the
    /// caller from the events that remain. An event whose fact is not in the view is ignored.
    /// The result is the view as if the events had never been applied. It may follow `apply` in
    /// the same transaction (it sees that batch's facts); `commit()` then keeps both.
    public mutating func retract(_ events: [IncomingEvent], sequences: [SourceSequence],
                                 from store: some ViewStateSource) throws -> ViewChanges {
        var changes = ViewChanges()
        var touched = Touched()
        for incoming in events {
            let fact = Fact(incoming.event, recordedAt: incoming.recordedAt)
            let subject = fact.payload.subjectId
            switch fact.payload.kind.subjectKind {
            case .caseId:
                var entry = try takeCase(subject, store)
                if entry.facts.remove(id: fact.key.id) {
                    changes.removedCaseFacts.append(RemovedFact(caseId: subject, eventId: fact.key.id))
                    touched.cases.insert(subject)
                    touched.refold.insert(subject)
                }
                pendingCases[subject] = entry
            case .contractId:
                var entry = try takeContract(subject, store)
                if entry.facts.remove(id: fact.key.id) {
                    entry.fold = ContractFold(contractId: subject, facts: entry.facts.facts)
                    touched.termsChanged.insert(subject)
                    touched.contracts.insert(subject)
                    if entry.facts.isEmpty { changes.removedStates.insert(.contract(subject)) }
                }
                pendingContracts[subject] = entry
            case .area:
                var entry = try takeArea(subject, store)
                if entry.facts.remove(id: fact.key.id) { touched.areas.insert(subject) }
                pendingAreas[subject] = entry
            }
        }
        for sequence in sequences {
            let urn = sequence.source.urn
            pendingSources[urn] = SourceEntry(sequence: sequence)
            if sequence.ranges.isEmpty {
                changes.removedStates.insert(.source(urn))
                changes.dirty.insert(.source(urn))
            } else {
                touched.sources.insert(urn)
            }
        }
        try derive(&touched, store, &changes)
        return changes
    }

    /// The subjects a batch touched, to derive.
    private struct Touched {
        var cases: Set<String> = []
        /// Cases whose facts changed other than by appending: folded again from their facts.
        var refold: Set<String> = []
        var contracts: Set<String> = []
        /// Contracts whose terms changed: the cases referred under them are derived again.
        var termsChanged: Set<String> = []
        var areas: Set<String> = []
        var sources: Set<String> = []
    }

    /// Derives the outputs of every touched subject into `changes`: case records, flags, referral
    /// rows and summaries, contract records, area records and source states.
    private mutating func derive(_ touched: inout Touched, _ store: some ViewStateSource, _ changes: inout ViewChanges) throws {
        // Cases referred under a contract whose terms changed are derived again.
        var derive = touched.cases
        for contractId in touched.termsChanged {
            if let entry = pendingContracts[contractId] { derive.formUnion(entry.cases.keys) }
        }
        for caseId in derive.sorted() {
            try deriveCase(caseId, refold: touched.refold.contains(caseId), store, &changes, &touched.contracts)
        }
        for contractId in touched.contracts.sorted() {
            try deriveContract(contractId, store, &changes)
        }
        for area in touched.areas.sorted() {
            guard var entry = pendingAreas.removeValue(forKey: area) else { continue }
            if entry.facts.isEmpty {
                entry.record = nil
                changes.removedStates.insert(.area(area))
            } else {
                entry.record = areaRecord(area, facts: entry.facts.facts)
                changes.areaStates[area] = SubjectStateCoding.encode(entry.facts, subject: area)
            }
            changes.dirty.insert(.area(area))
            pendingAreas[area] = entry
        }
        for urn in touched.sources.sorted() {
            guard let entry = pendingSources[urn] else { continue }
            changes.sourceStates[urn] = SubjectStateCoding.encode(entry.sequence)
            changes.dirty.insert(.source(urn))
        }
    }

    /// Computes the changes of replacing sources' sequence states (a replay that shows the view
    /// as of an instant, whose sequences are those known then, whatever the events' times).
    public mutating func replaceSequences(_ sequences: [SourceSequence], from store: some ViewStateSource) throws -> ViewChanges {
        discard()
        var changes = ViewChanges()
        for sequence in sequences {
            let urn = sequence.source.urn
            changes.sourceStates[urn] = SubjectStateCoding.encode(sequence)
            changes.dirty.insert(.source(urn))
            pendingSources[urn] = SourceEntry(sequence: sequence)
        }
        return changes
    }

    /// Keeps the batch's subjects in the cache (call after the store committed the changes).
    public mutating func commit() {
        for (id, var entry) in pendingCases {
            clock += 1
            entry.lastUse = clock
            cases[id] = entry
        }
        for (id, entry) in pendingContracts {
            contracts[id] = entry
            contractFolds[id] = .some(entry.folded)
        }
        for (id, entry) in pendingAreas { areas[id] = entry }
        for (id, entry) in pendingSources { sources[id] = entry }
        pendingCases.removeAll(keepingCapacity: true)
        pendingContracts.removeAll(keepingCapacity: true)
        pendingAreas.removeAll(keepingCapacity: true)
        pendingSources.removeAll(keepingCapacity: true)
        evictIfNeeded()
    }

    /// Forgets the batch's working state (call when the store's transaction failed). Subjects the
    /// batch had taken out of the cache are read from the store again when next needed.
    public mutating func discard() {
        pendingCases.removeAll(keepingCapacity: true)
        pendingContracts.removeAll(keepingCapacity: true)
        pendingAreas.removeAll(keepingCapacity: true)
        pendingSources.removeAll(keepingCapacity: true)
    }

    /// Empties the cache (the store stays the authority).
    public mutating func clearCache() {
        discard()
        cases.removeAll()
        contracts.removeAll()
        contractFolds.removeAll()
        areas.removeAll()
        sources.removeAll()
    }

    private mutating func evictIfNeeded() {
        guard cases.count > caseCapacity else { return }
        let keep = caseCapacity * 9 / 10
        let order = cases.map { ($0.value.lastUse, $0.key) }.sorted { $0.0 < $1.0 }
        for (_, id) in order.prefix(cases.count - keep) { cases.removeValue(forKey: id) }
    }

    // MARK: digest leaves

    /// The leaves of `subjects` from their current records (nil for a subject with no record).
    public mutating func leaves(for subjects: some Sequence<SubjectKey>, from store: some ViewStateSource) throws -> [SubjectKey: Hash256?] {
        var out: [SubjectKey: Hash256?] = [:]
        for subject in subjects {
            out[subject] = try canonicalRecord(of: subject, from: store).map {
                ViewTree.leaf(key: subject.description, canonicalJSON: $0)
            }
        }
        return out
    }

    /// The canonical JSON of a subject's current record, the bytes its leaf hashes (nil when the
    /// subject has no record).
    public mutating func canonicalRecord(of subject: SubjectKey, from store: some ViewStateSource) throws -> [UInt8]? {
        switch subject {
        case .caseId(let id):
            let entry = try peekCase(id, store)
            return entry.indexed.map { SubjectCanonical.bytes(entry.fold.record(flags: $0.flags)) }
        case .contract(let id):
            let entry: ContractEntry
            if let pending = pendingContracts[id] { entry = pending } else {
                entry = try takeContract(id, store)
                contracts[id] = entry
            }
            return entry.record.map { SubjectCanonical.bytes($0) }
        case .area(let id):
            let entry: AreaEntry
            if let pending = pendingAreas[id] { entry = pending } else {
                entry = try takeArea(id, store)
                areas[id] = entry
            }
            return entry.record.map { SubjectCanonical.bytes($0) }
        case .source(let urn):
            guard let source = EventSource(urn: urn) else { return nil }
            let entry: SourceEntry
            if let pending = pendingSources[urn] { entry = pending } else {
                entry = try takeSource(source, store)
                sources[urn] = entry
            }
            return entry.sequence.ranges.isEmpty ? nil : SubjectCanonical.bytes(entry.sequence.record)
        }
    }

    /// A case's entry without taking it out of the batch or the cache.
    private mutating func peekCase(_ id: String, _ store: some ViewStateSource) throws -> CaseEntry {
        if let entry = pendingCases[id] { return entry }
        if let entry = cases[id] { return entry }
        let entry = try takeCase(id, store)
        clock += 1
        cases[id] = entry
        return entry
    }

    // MARK: derivation

    private mutating func deriveCase(_ caseId: String, refold: Bool, _ store: some ViewStateSource,
                                     _ changes: inout ViewChanges, _ touchedContracts: inout Set<String>) throws {
        var entry = try takeCase(caseId, store)
        if refold { entry.fold = CaseFold(caseId: caseId, facts: entry.facts.facts) }
        let old = entry.indexed
        var lookup: [String: ContractFold] = [:]
        for r in entry.fold.referrals.values {
            if let contractId = r.referral?.data.contractId, lookup[contractId] == nil,
               let contract = try currentFold(contractId, store) {
                lookup[contractId] = contract
            }
        }
        // A case left with no facts (every one retracted) leaves the view.
        let new = entry.facts.isEmpty ? nil : entry.fold.indexed(rules: rules) { lookup[$0] }
        entry.indexed = new
        changes.dirty.insert(.caseId(caseId))
        diffFlags(old?.flags ?? [], new?.flags ?? [], &changes)
        if old?.summary != new?.summary { changes.summaries[caseId] = Change(old: old?.summary, new: new?.summary) }
        // Referral rows: update each affected contract's series.
        if old?.referrals != new?.referrals {
            var before: [String: ReferralRow] = [:]
            for row in old?.referrals ?? [] { before[row.referralId] = row }
            var after: [String: ReferralRow] = [:]
            for row in new?.referrals ?? [] { after[row.referralId] = row }
            for referralId in Set(before.keys).union(after.keys).sorted() {
                let was = before[referralId]
                let now = after[referralId]
                guard was != now else { continue }
                changes.referrals[ReferralKey(caseId: caseId, referralId: referralId)] = Change(old: was, new: now)
                if let was {
                    var contract = try takeContract(was.contractId, store)
                    contract.series.update(from: was, to: nil)
                    contract.remove(row: was)
                    pendingContracts[was.contractId] = contract
                    touchedContracts.insert(was.contractId)
                }
                if let now {
                    var contract = try takeContract(now.contractId, store)
                    contract.series.update(from: nil, to: now)
                    contract.add(row: now)
                    pendingContracts[now.contractId] = contract
                    touchedContracts.insert(now.contractId)
                }
            }
        }
        pendingCases[caseId] = entry
    }

    private mutating func deriveContract(_ contractId: String, _ store: some ViewStateSource, _ changes: inout ViewChanges) throws {
        var entry = try takeContract(contractId, store)
        let record: ContractRecord? = entry.exists
            ? entry.fold.record(series: entry.series, fallbackProvider: entry.fallbackProvider, referenced: entry.referenced,
                                rules: rules)
            : nil
        diffFlags(entry.record?.flags ?? [], record?.flags ?? [], &changes)
        if record?.summary != entry.record?.summary { changes.contracts[contractId] = .some(record?.summary) }
        if record != entry.record { changes.dirty.insert(.contract(contractId)) }
        entry.record = record
        if !entry.facts.isEmpty { changes.contractStates[contractId] = SubjectStateCoding.encode(entry.facts, subject: contractId) }
        pendingContracts[contractId] = entry
    }

    private func diffFlags(_ old: [FlagRecord], _ new: [FlagRecord], _ changes: inout ViewChanges) {
        if old == new { return }
        var before: [String: FlagRecord] = [:]
        for f in old { before[f.id] = f }
        var seen: Set<String> = []
        for f in new {
            seen.insert(f.id)
            let was = before[f.id]
            if was != f { changes.flags[f.id] = Change(old: changes.flags[f.id]?.old ?? was, new: f) }
        }
        for f in old where !seen.contains(f.id) {
            changes.flags[f.id] = Change(old: changes.flags[f.id]?.old ?? f, new: nil)
        }
    }

    // MARK: loading

    /// The case's entry, moved out of the batch or the cache (so mutating it copies nothing);
    /// the caller puts it back into `pendingCases` (or the cache).
    private mutating func takeCase(_ id: String, _ store: some ViewStateSource) throws -> CaseEntry {
        if let entry = pendingCases.removeValue(forKey: id) { return entry }
        if let entry = cases.removeValue(forKey: id) { return entry }
        let facts = try store.caseFacts(id) ?? FactList()
        let fold = CaseFold(caseId: id, facts: facts.facts)
        var entry = CaseEntry(facts: facts, fold: fold, indexed: nil)
        if !facts.isEmpty {
            // The outputs stored for the case were derived with the committed contracts, never
            // with this batch's pending changes.
            var lookup: [String: ContractFold] = [:]
            for row in fold.referrals.values {
                if let contractId = row.referral?.data.contractId, lookup[contractId] == nil,
                   let contract = try committedFold(contractId, store) {
                    lookup[contractId] = contract
                }
            }
            entry.indexed = fold.indexed(rules: rules) { lookup[$0] }
        }
        return entry
    }

    /// The contract's entry, moved out of the batch or the cache; the caller puts it back.
    private mutating func takeContract(_ id: String, _ store: some ViewStateSource) throws -> ContractEntry {
        if let entry = pendingContracts.removeValue(forKey: id) { return entry }
        if let entry = contracts.removeValue(forKey: id) { return entry }
        let facts = try store.contractFacts(id) ?? FactList()
        let fold = ContractFold(contractId: id, facts: facts.facts)
        var entry = ContractEntry(facts: facts, fold: fold, series: ContractSeries(), cases: [:], providers: [:], record: nil)
        for row in try store.referralRows(contractId: id) {
            entry.series.update(from: nil, to: row)
            entry.add(row: row)
        }
        if entry.exists {
            entry.record = fold.record(series: entry.series, fallbackProvider: entry.fallbackProvider,
                                       referenced: entry.referenced, rules: rules)
        }
        return entry
    }

    /// The contract's fold as committed (nil: not awarded in the view).
    private mutating func committedFold(_ id: String, _ store: some ViewStateSource) throws -> ContractFold? {
        if let known = contractFolds[id] { return known }
        if let cached = contracts[id] {
            contractFolds[id] = .some(cached.folded)
            return cached.folded
        }
        let facts = try store.contractFacts(id) ?? FactList()
        let fold = ContractFold(contractId: id, facts: facts.facts)
        let folded: ContractFold? = fold.versions.isEmpty ? nil : fold
        contractFolds[id] = .some(folded)
        return folded
    }

    /// The contract's fold with this batch's changes (nil: not awarded in the view).
    private mutating func currentFold(_ id: String, _ store: some ViewStateSource) throws -> ContractFold? {
        if let pending = pendingContracts[id] { return pending.folded }
        return try committedFold(id, store)
    }

    private mutating func takeArea(_ area: String, _ store: some ViewStateSource) throws -> AreaEntry {
        if let entry = pendingAreas.removeValue(forKey: area) { return entry }
        if let entry = areas.removeValue(forKey: area) { return entry }
        let facts = try store.areaFacts(area) ?? FactList()
        return AreaEntry(facts: facts, record: facts.isEmpty ? nil : areaRecord(area, facts: facts.facts))
    }

    private mutating func takeSource(_ source: EventSource, _ store: some ViewStateSource) throws -> SourceEntry {
        let urn = source.urn
        if let entry = pendingSources.removeValue(forKey: urn) { return entry }
        if let entry = sources.removeValue(forKey: urn) { return entry }
        return SourceEntry(sequence: try store.sourceSequence(urn) ?? SourceSequence(source: source))
    }
}

extension ProjectionEngine.ContractEntry {
    mutating func add(row: ReferralRow) {
        cases[row.caseId, default: 0] += 1
        providers[row.providerId, default: 0] += 1
    }

    mutating func remove(row: ReferralRow) {
        if let n = cases[row.caseId] { cases[row.caseId] = n > 1 ? n - 1 : nil }
        if let n = providers[row.providerId] { providers[row.providerId] = n > 1 ? n - 1 : nil }
    }
}
