import AccordEvents
import Foundation

/// What `ProjectionState.apply` did with an event.
public enum ApplyOutcome: String, Sendable, Equatable, Codable {
    /// The event was new and is now part of the state.
    case applied
    /// An event with the same id was applied before; nothing changed.
    case duplicate
}

/// The accountability view's state: every applied event, kept per subject (case, contract,
/// area) in canonical order (event time, source URN, sequence, id), plus each source's
/// sequence numbers in recorded order.
///
/// Applying is pure and deterministic: no clock, no I/O, no randomness. Every view is derived
/// by folding a subject's canonical list, so the same set of events gives the same view
/// whatever order the topics were read in. Queries take `asOf` (events with a later time are
/// not part of the view) and optional `knownAt` (only events recorded at or before it).
public struct ProjectionState: Sendable {
    /// The thresholds used by every query.
    public let rules: ProjectionRules
    /// How many distinct events have been applied.
    public private(set) var eventCount: Int = 0

    var seen: Set<UUID> = []
    var caseLogs: [String: EventLog] = [:]
    var contractLogs: [String: EventLog] = [:]
    var areaLogs: [String: EventLog] = [:]
    var sourceLogs: [EventSource: SourceLog] = [:]
    /// Contract id → the cases with a referral naming it (narrows contract queries).
    var contractCases: [String: Set<String>] = [:]
    var cache = FoldCache()

    /// An empty state using the given rules.
    public init(rules: ProjectionRules = .defaults) {
        self.rules = rules
    }

    /// Adds an event recorded (written to Kafka) at `recordedAt`. Idempotent by event id:
    /// an id seen before returns `.duplicate` and changes nothing.
    @discardableResult
    public mutating func apply(_ event: AccordEvent, recordedAt: Timestamp) -> ApplyOutcome {
        guard seen.insert(event.id).inserted else { return .duplicate }
        eventCount += 1
        if !isKnownUniquelyReferenced(&cache) { cache = FoldCache() }
        let recorded = RecordedEvent(event: event, recordedAt: recordedAt)
        switch event.payload {
        case .probation(let p):
            let caseId = caseIdOf(p)
            caseLogs[caseId, default: EventLog()].insert(recorded)
            if case .interventionReferred(let r) = p {
                contractCases[r.contractId, default: []].insert(r.caseId)
                cache.invalidateContract(r.contractId)
            }
            cache.invalidateCase(caseId)
        case .interventions(let i):
            let caseId = caseIdOf(i)
            caseLogs[caseId, default: EventLog()].insert(recorded)
            cache.invalidateCase(caseId)
        case .policeOutcome(.provenReoffenceRecorded(let r)):
            caseLogs[r.caseId, default: EventLog()].insert(recorded)
            cache.invalidateCase(r.caseId)
        case .commissioning(.localPrioritySet(let l)):
            areaLogs[l.area, default: EventLog()].insert(recorded)
        case .commissioning(let c):
            let contractId = contractIdOf(c)
            contractLogs[contractId, default: EventLog()].insert(recorded)
            cache.invalidateContract(contractId)
        }
        sourceLogs[event.source, default: SourceLog()].insert(
            SequenceEntry(sequence: event.sequence, time: event.time, recordedAt: recordedAt, id: event.id))
        return .applied
    }

    /// Applies events in order, each with its recorded instant; returns how many were new.
    @discardableResult
    public mutating func apply<S: Sequence>(contentsOf events: S) -> Int where S.Element == (AccordEvent, Timestamp) {
        var applied = 0
        for (event, recordedAt) in events where apply(event, recordedAt: recordedAt) == .applied { applied += 1 }
        return applied
    }

    /// Whether an event with this id has been applied.
    public func contains(eventId: UUID) -> Bool { seen.contains(eventId) }

    private func caseIdOf(_ p: ProbationEvent) -> String {
        switch p {
        case .caseOpened(let d): d.caseId
        case .practitionerAllocated(let d): d.caseId
        case .riskReassessed(let d): d.caseId
        case .interventionReferred(let d): d.caseId
        case .complianceFailureRecorded(let d): d.caseId
        case .enforcementActionTaken(let d): d.caseId
        case .caseTransferred(let d): d.caseId
        case .caseClosed(let d): d.caseId
        }
    }

    private func caseIdOf(_ i: InterventionsEvent) -> String {
        switch i {
        case .referralAccepted(let d): d.caseId
        case .referralDeclined(let d): d.caseId
        case .interventionStarted(let d): d.caseId
        case .appointmentAttended(let d): d.caseId
        case .appointmentMissed(let d): d.caseId
        case .unpaidWorkHoursLogged(let d): d.caseId
        case .curfewViolationDetected(let d): d.caseId
        case .treatmentSessionRecorded(let d): d.caseId
        case .interventionCompleted(let d): d.caseId
        case .interventionEndedEarly(let d): d.caseId
        }
    }

    private func contractIdOf(_ c: CommissioningEvent) -> String {
        switch c {
        case .contractAwarded(let d): d.contractId
        case .contractVaried(let d): d.contractId
        case .contractEnded(let d): d.contractId
        case .localPrioritySet(let d): d.area
        }
    }

    // MARK: folds (cached when the whole subject is visible)

    func caseFold(_ caseId: String, asOf: Timestamp, knownAt: Timestamp?) -> CaseFold? {
        guard let log = caseLogs[caseId] else { return nil }
        let whole = log.isFullyVisible(asOf: asOf, knownAt: knownAt)
        if whole, let cached = cache.caseFold(caseId) { return cached }
        let events = log.visible(asOf: asOf, knownAt: knownAt)
        guard !events.isEmpty else { return nil }
        let fold = CaseFold(caseId: caseId, events: events)
        if whole { cache.store(fold) }
        return fold
    }

    func contractFold(_ contractId: String, asOf: Timestamp, knownAt: Timestamp?) -> ContractFold? {
        guard let log = contractLogs[contractId] else { return nil }
        let whole = log.isFullyVisible(asOf: asOf, knownAt: knownAt)
        if whole, let cached = cache.contractFold(contractId) { return cached }
        let events = log.visible(asOf: asOf, knownAt: knownAt)
        guard !events.isEmpty else { return nil }
        let fold = ContractFold(contractId: contractId, events: events)
        if whole { cache.store(fold) }
        return fold
    }
}
