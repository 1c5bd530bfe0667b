@testable import AccordAudit
import AccordBus
import AccordEvents
import AccordIntegrity
import AccordKafka
import AccordProjection
import AccordStore
import AccordTestSupport
import Foundation
import Testing

/// Day 0 of the audit scenario: 2025-03-03T00:00:00Z.
let aT0 = Timestamp(startOf: CalendarDate("2025-03-03") ?? EventSamples.defaultDate)

/// Day `d` (fractional) after `aT0`.
func aDay(_ d: Double) -> Timestamp {
    aT0.adding(seconds: Int64((d * 86_400).rounded())) ?? aT0
}

/// The script text the HTML report must escape (a contract end reason).
let hostileReason = "<script>alert('owned')</script> & \"quoted\""

/// One planned event: when it happened and when it was recorded.
struct PlannedEvent: Sendable {
    let event: AccordEvent
    let recordedAt: Timestamp
}

/// The audit scenario: a contract, seven cases, late recordings.
///
/// - X000004's allocation happened on day 3 but was recorded on day 15 (late for day 10):
///   as shown at day 10 the case is unallocated (flag since day 5); as known now it was allocated in time.
/// - X000001's risk reassessment happened on day 9, recorded on day 12 (late for day 10).
/// - X000003's referral was accepted on day 14, recorded on day 22 (late for day 16).
/// - CT-0002 was ended on day 18 with a reason holding a script tag.
enum AuditScenario {
    static let provider = "ace-payback"

    static let events: [PlannedEvent] = build()

    private static func build() -> [PlannedEvent] {
        var planned: [(payload: EventPayload, time: Timestamp, recordedAt: Timestamp)] = []
        func add(_ payload: EventPayload, _ day: Double, recorded: Double? = nil) {
            planned.append((payload, aDay(day), aDay(recorded ?? day)))
        }
        func opened(_ caseId: String, area: String = "london-north", risk: RiskLevel = .medium) {
            add(CaseOpened(caseId: caseId, orderType: .communityOrder, requirements: [.unpaidWork(hours: 100)],
                           startDate: aT0.utcDate, expectedEndDate: aT0.utcDate.adding(days: 365) ?? aT0.utcDate,
                           area: area, riskLevel: risk).payload, 0)
        }
        func allocated(_ caseId: String, _ day: Double, recorded: Double? = nil) {
            add(PractitionerAllocated(caseId: caseId, practitionerId: "PR-\(caseId.suffix(2))", team: "team-1").payload,
                day, recorded: recorded)
        }
        func referred(_ caseId: String, _ referralId: String, _ day: Double, contract: String = "CT-0001") {
            add(InterventionReferred(caseId: caseId, referralId: referralId, contractId: contract, providerId: provider,
                                     interventionType: .unpaidWork,
                                     dueBy: aDay(day).utcDate.adding(days: 14) ?? aT0.utcDate).payload, day)
        }
        func award(_ contractId: String, _ day: Double) {
            add(ContractAwarded(
                contractId: contractId, commissionerId: "pcc-west", providerId: provider, interventionType: .unpaidWork,
                area: "london-north", periodStart: CalendarDate("2025-01-01") ?? aT0.utcDate,
                periodEnd: CalendarDate("2025-12-31") ?? aT0.utcDate, price: Money(amountMinor: 10_000_000),
                paymentByResults: PaymentByResults(outcomePaymentShare: 0.25, outcomeMetric: .completion),
                serviceLevels: ServiceLevels(referralResponseDays: 5, startWithinDays: 10, minimumCompletionRate: 0.75),
                maxRiskLevel: .high).payload, day)
        }

        award("CT-0001", -30)
        award("CT-0002", -20)
        add(LocalPrioritySet(area: "london-north", commissionerId: "pcc-west", priority: "knife-crime").payload, -10)

        opened("X000001")
        allocated("X000001", 1)
        referred("X000001", "REF-1", 1.1)
        add(ReferralAccepted(caseId: "X000001", referralId: "REF-1", providerId: provider).payload, 2)
        add(InterventionStarted(caseId: "X000001", referralId: "REF-1", providerId: provider).payload, 3)
        add(AppointmentMissed(caseId: "X000001", referralId: "REF-1", providerId: provider, appointmentId: "AP-2",
                              acceptable: false, reason: "No reason given").payload, 5)
        add(RiskReassessed(caseId: "X000001", riskLevel: .high, reason: "New intelligence").payload, 9, recorded: 12)
        add(InterventionCompleted(caseId: "X000001", referralId: "REF-1", providerId: provider).payload, 20)

        opened("X000002", area: "london-south")

        opened("X000003")
        allocated("X000003", 1)
        referred("X000003", "REF-3", 2)
        add(ReferralAccepted(caseId: "X000003", referralId: "REF-3", providerId: provider).payload, 14, recorded: 22)

        opened("X000004")
        allocated("X000004", 3, recorded: 15)

        opened("X000005", risk: .veryHigh)
        allocated("X000005", 1)
        referred("X000005", "REF-5", 2)

        add(InterventionStarted(caseId: "X000006", referralId: "REF-9", providerId: provider).payload, 3)

        opened("X000007")
        allocated("X000007", 7)
        add(CaseClosed(caseId: "X000007", outcome: .completed).payload, 25)

        add(ContractEnded(contractId: "CT-0002", reason: hostileReason).payload, 18)

        // Sequence numbers per source in recording order; events ordered by recording.
        let ordered = planned.enumerated().sorted { ($0.element.recordedAt, $0.offset) < ($1.element.recordedAt, $1.offset) }
        var sequences: [EventSource: Int64] = [:]
        return ordered.map(\.element).enumerated().map { n, item in
            let source = EventSamples.source(for: item.payload.kind.owner)
            let sequence = sequences[source, default: 0] + 1
            sequences[source] = sequence
            let event = AccordEvent(id: EventSamples.deterministicId("audit", source.urn, Int64(n)), source: source,
                                    time: item.time, sequence: sequence, payload: item.payload)
            return PlannedEvent(event: event, recordedAt: item.recordedAt)
        }
    }

    /// The state of every event, each applied with its recorded instant (what the query API serves).
    static func fullState() -> ProjectionState {
        var state = ProjectionState()
        for item in events { state.apply(item.event, recordedAt: item.recordedAt) }
        return state
    }

    /// An independent filter: the events of the view at `asOf` (recorded by `knownAt` when given).
    static func filteredState(asOf: Timestamp, knownAt: Timestamp?) -> ProjectionState {
        var state = ProjectionState()
        for item in events where item.event.time <= asOf && (knownAt.map { item.recordedAt <= $0 } ?? true) {
            state.apply(item.event, recordedAt: item.recordedAt)
        }
        return state
    }

    /// The view at (`asOf`, `knownAt`) folded independently: the facts of exactly the events in
    /// the view, and the sources' sequence numbers of every event recorded by `knownAt` (sequence
    /// numbers order publication, so a source's later-dated events still fill its gaps).
    static func filteredView(asOf: Timestamp, knownAt: Timestamp?) throws -> FoldedView {
        let known = events.filter { item in knownAt.map { item.recordedAt <= $0 } ?? true }
        let reader = KnownSequences(base: filteredState(asOf: asOf, knownAt: knownAt).facts, known: known.map(\.event))
        return try FoldedView(reader: reader, asOf: asOf, knownAt: knownAt, rules: .defaults)
    }

    /// The independently filtered view's digest.
    static func filteredDigest(asOf: Timestamp, knownAt: Timestamp?) throws -> String {
        try filteredView(asOf: asOf, knownAt: knownAt).digest.hex
    }
}

/// A view's facts with the sources' sequences taken from a given list of events.
struct KnownSequences: ViewFactsReader {
    let base: MemoryViewStore
    let known: [AccordEvent]

    func caseFacts(_ caseId: String) throws -> FactList? { try base.caseFacts(caseId) }
    func contractFacts(_ contractId: String) throws -> FactList? { try base.contractFacts(contractId) }
    func areaFacts(_ area: String) throws -> FactList? { try base.areaFacts(area) }
    func sourceSequence(_ urn: String) throws -> SourceSequence? { try base.sourceSequence(urn) }
    func referralRows(contractId: String) throws -> [ReferralRow] { try base.referralRows(contractId: contractId) }
    func allCaseIds() throws -> [String] { try base.allCaseIds() }
    func allContractIds() throws -> [String] { try base.allContractIds() }
    func allAreaIds() throws -> [String] { try base.allAreaIds() }
    func allSources() throws -> [String] { Set(known.map(\.source.urn)).sorted() }
    func sourceEvents(_ urn: String, knownAt: Timestamp?) throws -> [SourceEvent] {
        known.filter { $0.source.urn == urn }.map { SourceEvent(sequence: $0.sequence, time: $0.time, eventId: $0.idString) }
    }
}

/// The Kafka record of an event, as the projector consumed it (record timestamp = recorded instant).
func consumerRecord(_ event: AccordEvent, recordedAt: Timestamp, offset: Int64) throws -> ConsumerRecord {
    let record = try ProducerRecord(event: event)
    return ConsumerRecord(topic: record.topic, partition: 0, offset: offset, key: record.key, value: record.value,
                          headers: record.headers,
                          timestampMilliseconds: recordedAt.secondsSinceEpoch * 1000 + Int64(recordedAt.nanoseconds / 1_000_000))
}

/// Plays records into a store the way the projector does: batches in consumption order, each
/// journaling its new events, applying them to the view and committing its offsets.
func projectorLikeStore(path: String, records: [ConsumerRecord], batchSize: Int = 5) throws {
    var writer = try ViewStoreWriter(store: try ProjectorStore(path: path))
    let codec = EventCodec()
    var start = 0
    while start < records.count {
        let slice = records[start..<min(start + batchSize, records.count)]
        start += slice.count
        var batch = StoreBatch()
        var next: [TopicPartition: Int64] = [:]
        for record in slice {
            next[record.topicPartition] = max(next[record.topicPartition] ?? 0, record.offset + 1)
            let event = try record.decodeEvent(codec: codec)
            let recordedAt = Timestamp.fromKafka(milliseconds: record.timestampMilliseconds, fallback: event.time)
            let message = record.binaryMessage
            let entry = JournaledEvent(event: event, message: message,
                                       coordinates: RecordCoordinates(topic: record.topic, partition: record.partition,
                                                                      offset: record.offset),
                                       recordedAt: recordedAt, eventHash: try EventHashing.hash(message: message).hash)
            batch.entries.append(PendingEntry(entry: entry, event: event))
        }
        batch.offsets = next.map { StoredOffset(topic: $0.key.topic, partition: $0.key.partition, nextOffset: $0.value) }
        _ = try writer.commit(batch)
    }
    _ = try writer.viewDigest()
}

/// The scenario's records in recording order, offsets counted per topic.
func scenarioRecords() throws -> [ConsumerRecord] {
    var offsets: [String: Int64] = [:]
    return try AuditScenario.events.map { item in
        let topic = item.event.kind.topic.name
        let offset = offsets[topic, default: 0]
        offsets[topic] = offset + 1
        return try consumerRecord(item.event, recordedAt: item.recordedAt, offset: offset)
    }
}

/// A fresh temporary directory.
func temporaryDirectory(_ name: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("accord-audit-\(name)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A live store of the scenario, written like the projector writes it.
func scenarioStore(_ name: String) throws -> (directory: String, store: String) {
    let directory = try temporaryDirectory(name)
    let store = directory + "/live.sqlite"
    try projectorLikeStore(path: store, records: try scenarioRecords())
    return (directory, store)
}

extension Replay {
    /// The replayed view at `time`, its replay store in a temporary file.
    static func view(from reader: StoreAuditReader, time: ReplayTime) throws -> ReplayedView {
        try replay(reader: reader, time: time, rules: .defaults, into: TemporaryPaths.file("accord-replay"), progress: { _ in })
    }
}
