import AccordEvents
import AccordKafka
import AccordProjection
import AccordProjector
import AccordStore
import AccordTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

/// Day 0 of the query API scenario: 2025-03-03T00:00:00Z.
let qT0 = EventSamples.defaultStart

/// Day `d` (fractional) after `qT0`.
func qDay(_ d: Double) -> Timestamp {
    qT0.adding(seconds: Int64((d * 86_400).rounded())) ?? qT0
}

/// The fixed "now" of every query API test: day 30, 2025-04-02T00:00:00Z.
let qNow = qDay(30)

let qProbationURN = "urn:accord:probation:nps-london"
let qProviderURN = "urn:accord:interventions:ace-payback"
let qCommissionerURN = "urn:accord:commissioner:pcc-west"

/// Events planned for the scenario. Sequence numbers are assigned per source in recording
/// order, so the only sequence gap is the one asked for with `skipSequence`.
final class PlannedFeed {
    private struct Planned {
        let payload: EventPayload
        let time: Timestamp
        let recordedAt: Timestamp
        let skip: Int64
    }
    private var planned: [Planned] = []

    func add(_ payload: EventPayload, at time: Timestamp, recordedAt: Timestamp? = nil, skipSequence: Int64 = 0) {
        planned.append(Planned(payload: payload, time: time, recordedAt: recordedAt ?? time, skip: skipSequence))
    }

    /// Every planned event in recording order, with its recorded instant.
    func events() -> [(AccordEvent, Timestamp)] {
        let ordered = planned.enumerated().sorted { ($0.element.recordedAt, $0.offset) < ($1.element.recordedAt, $1.offset) }
        var sequences: [EventSource: Int64] = [:]
        return ordered.map(\.element).enumerated().map { n, item in
            let source = EventSamples.source(for: item.payload.kind.owner)
            let sequence = sequences[source, default: 0] + 1 + item.skip
            sequences[source] = sequence
            let event = AccordEvent(id: EventSamples.deterministicId("query-api", source.urn, Int64(n)), source: source,
                                    time: item.time, sequence: sequence, payload: item.payload)
            return (event, item.recordedAt)
        }
    }

    /// The projection of every planned event, each recorded at its `recordedAt`.
    func state() -> ProjectionState {
        var state = ProjectionState()
        for (n, (event, recordedAt)) in events().enumerated() {
            let outcome = state.apply(event, recordedAt: recordedAt)
            #expect(outcome == .applied, "scenario event \(n) (\(event.type)) was \(outcome)")
        }
        return state
    }
}

/// The partnership the query API tests look at, as of `qNow`:
///
/// - contract CT-0001 (pcc-west → ace-payback, unpaid work, london-north, £100,000, 25 % paid on completion,
///   5 response days, 10 start days, cleared up to high risk);
/// - X000001 (london-north): referred, accepted, started, one unacceptable absence never enforced
///   (enforcement-decision-overdue since day 12), completed day 20, proven reoffence recorded day 22;
/// - X000002 (london-south): never allocated (case-unallocated since day 5, open);
/// - X000003: referral REF-3 never answered (referral-unanswered since day 7);
/// - X000004: accepted, never started (intervention-not-started since day 11); risk raised to high on day 9,
///   but that reassessment was recorded only on day 25;
/// - X000005 (licence, very-high risk): referred to a provider cleared up to high (risk-not-cleared from day 2,
///   resolved day 15 when it ended early);
/// - X000006: provider activity with no referral (activity-without-referral since day 3);
/// - X000007: allocated late (case-unallocated day 5 → 7), closed day 25;
/// - a local priority for london-north whose commissioner event skipped a sequence number (sequence-gap).
enum QueryScenario {
    static let state: ProjectionState = feed().state()
    static let events: [(AccordEvent, Timestamp)] = feed().events()

    private static func feed() -> PlannedFeed {
        let feed = PlannedFeed()
        let provider = "ace-payback"
        func opened(_ caseId: String, area: String = "london-north", risk: RiskLevel = .medium,
                    order: OrderType = .communityOrder) {
            feed.add(CaseOpened(caseId: caseId, orderType: order, requirements: [.unpaidWork(hours: 100)],
                                startDate: qT0.utcDate, expectedEndDate: qT0.utcDate.adding(days: 365) ?? qT0.utcDate,
                                area: area, riskLevel: risk).payload, at: qT0)
        }
        func allocated(_ caseId: String, at day: Double) {
            feed.add(PractitionerAllocated(caseId: caseId, practitionerId: "PR-\(caseId.suffix(2))", team: "team-1").payload,
                     at: qDay(day))
        }
        func referred(_ caseId: String, _ referralId: String, at day: Double) {
            feed.add(InterventionReferred(caseId: caseId, referralId: referralId, contractId: "CT-0001", providerId: provider,
                                          interventionType: .unpaidWork,
                                          dueBy: qDay(day).utcDate.adding(days: 14) ?? qT0.utcDate).payload, at: qDay(day))
        }
        func accepted(_ caseId: String, _ referralId: String, at day: Double) {
            feed.add(ReferralAccepted(caseId: caseId, referralId: referralId, providerId: provider).payload, at: qDay(day))
        }
        func started(_ caseId: String, _ referralId: String, at day: Double) {
            feed.add(InterventionStarted(caseId: caseId, referralId: referralId, providerId: provider).payload, at: qDay(day))
        }

        feed.add(ContractAwarded(
            contractId: "CT-0001", commissionerId: "pcc-west", providerId: provider, interventionType: .unpaidWork,
            area: "london-north", periodStart: CalendarDate("2025-01-01") ?? qT0.utcDate,
            periodEnd: CalendarDate("2025-12-31") ?? qT0.utcDate, price: Money(amountMinor: 10_000_000),
            paymentByResults: PaymentByResults(outcomePaymentShare: 0.25, outcomeMetric: .completion),
            serviceLevels: ServiceLevels(referralResponseDays: 5, startWithinDays: 10, minimumCompletionRate: 0.75),
            maxRiskLevel: .high).payload, at: qDay(-30))
        feed.add(LocalPrioritySet(area: "london-north", commissionerId: "pcc-west", priority: "violence-reduction").payload,
                 at: qDay(-10), skipSequence: 1)

        // X000001: delivered, one unacceptable absence with no enforcement decision, reoffended.
        opened("X000001")
        allocated("X000001", at: 1)
        referred("X000001", "REF-1", at: 1.1)
        accepted("X000001", "REF-1", at: 2)
        started("X000001", "REF-1", at: 3)
        feed.add(AppointmentAttended(caseId: "X000001", referralId: "REF-1", providerId: provider, appointmentId: "AP-1").payload,
                 at: qDay(4))
        feed.add(AppointmentMissed(caseId: "X000001", referralId: "REF-1", providerId: provider, appointmentId: "AP-2",
                                   acceptable: false, reason: "No reason given").payload, at: qDay(5))
        feed.add(UnpaidWorkHoursLogged(caseId: "X000001", referralId: "REF-1", providerId: provider, hours: 6,
                                       date: qDay(6).utcDate).payload, at: qDay(6))
        feed.add(InterventionCompleted(caseId: "X000001", referralId: "REF-1", providerId: provider).payload, at: qDay(20))
        feed.add(ProvenReoffenceRecorded(caseId: "X000001", offenceDate: CalendarDate("2025-03-20") ?? qT0.utcDate,
                                         provenDate: qDay(22).utcDate, offenceCategory: "theft").payload, at: qDay(22))

        // X000002: london-south, never allocated.
        opened("X000002", area: "london-south")

        // X000003: referral never answered.
        opened("X000003")
        allocated("X000003", at: 1)
        referred("X000003", "REF-3", at: 2)

        // X000004: accepted, never started; risk raised on day 9, recorded on day 25.
        opened("X000004")
        allocated("X000004", at: 1)
        referred("X000004", "REF-4", at: 1)
        accepted("X000004", "REF-4", at: 2)
        feed.add(RiskReassessed(caseId: "X000004", riskLevel: .high, reason: "New intelligence").payload,
                 at: qDay(9), recordedAt: qDay(25))

        // X000005: very-high risk referred to a provider cleared only up to high; ended early on day 15.
        opened("X000005", risk: .veryHigh, order: .licence)
        allocated("X000005", at: 1)
        referred("X000005", "REF-5", at: 2)
        accepted("X000005", "REF-5", at: 3)
        started("X000005", "REF-5", at: 4)
        feed.add(InterventionEndedEarly(caseId: "X000005", referralId: "REF-5", providerId: provider, reason: "Recalled").payload,
                 at: qDay(15))

        // X000006: provider activity on a referral probation never made.
        started("X000006", "REF-9", at: 3)

        // X000007: allocated two days late, then closed.
        opened("X000007")
        allocated("X000007", at: 7)
        feed.add(CaseClosed(caseId: "X000007", outcome: .completed).payload, at: qDay(25))

        return feed
    }

    /// The scenario written into a projector store the way the projector writes it.
    static let store: ProjectorStore? = {
        let path = TemporaryPaths.file("accord-query-api")
        return try? StoreFixtures.write(events, to: path, batchSize: 7).store
    }()
}

/// The consumer lag `/ready` reports; tests change it.
final class LagSource: Sendable {
    private let value: Mutex<Int64?>

    init(_ lag: Int64?) { value = Mutex(lag) }

    func set(_ lag: Int64?) { value.withLock { $0 = lag } }

    /// One partition with the current lag; throws when the lag is nil (cannot be read).
    func read() throws -> [PartitionLag] {
        guard let lag = value.withLock({ $0 }) else { throw LagUnavailable() }
        return [PartitionLag(topicPartition: TopicPartition(topic: "probation.case-events.v1", partition: 0),
                             highWatermark: 120, position: 120 - lag)]
    }

    struct LagUnavailable: Error, CustomStringConvertible {
        var description: String { "broker unreachable" }
    }
}

/// A query API over the scenario, answering as of `qNow`.
func makeQueryAPI(state: ProjectionState = QueryScenario.state, lag: LagSource = LagSource(0)) -> QueryAPI {
    makeQueryAPI(view: state, lag: lag)
}

/// A query API over any view of the scenario, answering as of `qNow`.
func makeQueryAPI(view: any ViewQuerying, lag: LagSource = LagSource(0)) -> QueryAPI {
    var logger = Logger(label: "query-api-tests")
    logger.logLevel = .critical
    return QueryAPI(view: view, lag: { try lag.read() }, registry: nil, logger: logger, now: { qNow })
}

/// One HTTP exchange as the tests see it.
struct Exchange: Sendable {
    let method: String
    let uri: String
    let status: Int
    let contentType: String
    let body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body parsed as a JSON object (an issue is recorded when it is not one).
    func json(sourceLocation: SourceLocation = #_sourceLocation) -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            Issue.record("\(method) \(uri): body is not a JSON object: \(text.prefix(300))", sourceLocation: sourceLocation)
            return [:]
        }
        return object
    }

    /// The file the contract check reads: `{"method", "path", "status", "contentType", "body"}`, the body verbatim.
    func contractRecord() throws -> Data {
        let encoder = JSONEncoder()
        let isJSON = contentType.hasPrefix("application/json") || contentType.hasPrefix("application/problem+json")
        let bodyJSON = isJSON ? Data(body) : try encoder.encode(text)
        var out = Data("{\"method\":".utf8)
        out += try encoder.encode(method)
        out += Data(",\"path\":".utf8) + (try encoder.encode(uri))
        out += Data(",\"status\":\(status),\"contentType\":".utf8) + (try encoder.encode(contentType))
        out += Data(",\"body\":".utf8) + bodyJSON + Data("}".utf8)
        return out
    }
}

/// Sends requests to the API's router in process.
struct QueryClient: Sendable {
    let client: any TestClientProtocol

    func get(_ uri: String) async throws -> Exchange {
        let response = try await client.execute(uri: uri, method: .get)
        return Exchange(method: "GET", uri: uri, status: Int(response.status.code),
                        contentType: response.headers[.contentType] ?? "",
                        body: Array(response.body.readableBytesView))
    }
}

/// Runs `body` with a client of `api`'s router.
func withQueryAPI<T: Sendable>(_ api: QueryAPI = makeQueryAPI(),
                               _ body: @Sendable @escaping (QueryClient) async throws -> T) async throws -> T {
    let app = Application(router: api.router())
    return try await app.test(.router) { client in try await body(QueryClient(client: client)) }
}

/// A list answer's items.
func items(_ json: [String: Any]) -> [[String: Any]] {
    json["items"] as? [[String: Any]] ?? []
}

/// The value at a `/`-separated path of object keys and array indexes.
func value(_ json: Any?, _ path: String) -> Any? {
    var node = json
    for part in path.split(separator: "/") {
        if let index = Int(part), let array = node as? [Any] {
            node = index < array.count ? array[index] : nil
        } else {
            node = (node as? [String: Any])?[String(part)]
        }
    }
    return node
}

/// `value(json, path)` as a string.
func string(_ json: Any?, _ path: String) -> String? { value(json, path) as? String }

/// `value(json, path)` as an integer (JSON numbers without a fraction).
func int(_ json: Any?, _ path: String) -> Int? { (value(json, path) as? NSNumber)?.intValue }

/// `value(json, path)` as a double.
func double(_ json: Any?, _ path: String) -> Double? { (value(json, path) as? NSNumber)?.doubleValue }

/// The repository root, found from this file's path.
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// Runs a command in the repository root; returns the exit status and combined output.
func runCommand(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [executable] + arguments
    process.currentDirectoryURL = repoRoot
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// A new empty temporary directory.
func temporaryDirectory(_ name: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("accord-query-api-\(name)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}
