import AccordEvents
import AccordIntegrity
import AccordKafka
import AccordProjection
import AccordHTTP
import AccordRuntime
import Foundation
import Hummingbird
import Logging
import Prometheus

/// The accountability query API served by the projector: cases, timelines, flags,
/// contract performance, area summaries, each as of any instant; plus health, readiness,
/// metrics, the integrity status and the OpenAPI document.
public struct QueryAPI: Sendable {
    private let view: ViewHolder
    private let integrity: IntegrityStatus
    private let lag: @Sendable () async throws -> [PartitionLag]
    private let logger: Logger
    private let registry: PrometheusCollectorRegistry?
    private let now: @Sendable () -> Timestamp

    /// Creates the API over `projector`'s live view; `now` supplies the default `asOf`.
    public init(projector: Projector, registry: PrometheusCollectorRegistry? = nil, logger: Logger,
                now: @escaping @Sendable () -> Timestamp = ServiceClock.system.now) {
        self.init(view: projector.view, integrity: projector.integrity, lag: { try await projector.lag() },
                  registry: registry, logger: logger, now: now)
    }

    /// Creates the API over `view`; `integrity` says which events are provisional (by default
    /// none: an empty status with checking on); `lag` reports the consumer's lag for readiness.
    public init(view: ViewHolder, integrity: IntegrityStatus = IntegrityStatus(),
                lag: @escaping @Sendable () async throws -> [PartitionLag],
                registry: PrometheusCollectorRegistry? = nil, logger: Logger,
                now: @escaping @Sendable () -> Timestamp = ServiceClock.system.now) {
        self.view = view
        self.integrity = integrity
        self.lag = lag
        self.registry = registry
        self.logger = logger
        self.now = now
    }

    /// The Hummingbird application serving the API on `host:port`.
    public func application(host: String, port: Int) -> some ApplicationProtocol {
        Application(router: router(), configuration: .init(address: .hostname(host, port: port), serverName: "accord-projector"),
                    logger: logger)
    }

    /// The routes of the API.
    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ProblemMiddleware())
        let view = self.view
        let integrity = self.integrity
        router.get("/health") { _, _ in
            Responses.json(Health(status: "ok", events: view.snapshot().eventCount))
        }
        router.get("/ready") { _, _ in try await readiness() }
        let registry = self.registry
        router.get("/metrics") { _, _ in
            var text: [UInt8] = []
            registry?.emit(into: &text)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: text)))
        }
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: MediaTypes.json],
                     body: ResponseBody(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.bytes)))
        }
        router.get("/v1/cases") { request, _ in
            try answerList(request) { state, time, page in
                let area = request.uri.queryParameters.get("area")
                let ids = state.caseIds(asOf: time.asOf, knownAt: time.knownAt)
                guard let area else {
                    // Without a filter only the page's cases need rendering.
                    let idPage = page.page(ids)
                    let items = idPage.items.compactMap { state.caseView($0, asOf: time.asOf, knownAt: time.knownAt) }
                    return Page(items: items.map(CaseListItem.init), total: idPage.total, nextCursor: idPage.nextCursor)
                }
                let views = ids.lazy.compactMap { state.caseView($0, asOf: time.asOf, knownAt: time.knownAt) }
                    .filter { $0.area == area }
                return page.page(views.map(CaseListItem.init))
            }
        }
        router.get("/v1/cases/:caseId") { request, context in
            let caseId = try context.parameters.require("caseId")
            return try answer(request) { state, time in
                try found(state.caseView(caseId, asOf: time.asOf, knownAt: time.knownAt), "case \(caseId)", time)
            }
        }
        router.get("/v1/cases/:caseId/timeline") { request, context in
            let caseId = try context.parameters.require("caseId")
            return try answerList(request) { state, time, page in
                let entries = state.timeline(caseId, asOf: time.asOf, knownAt: time.knownAt)
                if entries.isEmpty, state.caseView(caseId, asOf: time.asOf, knownAt: time.knownAt) == nil {
                    throw NotFound(what: "case \(caseId)", time: time)
                }
                return page.page(entries).map { TimelineItem($0, provisional: integrity.isProvisional(eventId: $0.eventId)) }
            }
        }
        router.get("/v1/flags") { request, _ in
            try answerList(request) { state, time, page in
                let filter = try flagFilter(request)
                return page.page(state.flags(asOf: time.asOf, knownAt: time.knownAt, filter: filter))
            }
        }
        router.get("/v1/contracts/:contractId/performance") { request, context in
            let contractId = try context.parameters.require("contractId")
            return try answer(request) { state, time in
                try found(state.contractPerformance(contractId, asOf: time.asOf, knownAt: time.knownAt),
                          "contract \(contractId)", time)
            }
        }
        router.get("/v1/areas/:area/summary") { request, context in
            let area = try context.parameters.require("area")
            return try answer(request) { state, time in
                let known = state.areas(asOf: time.asOf, knownAt: time.knownAt)
                guard known.contains(area) else { throw NotFound(what: "area \(area)", time: time) }
                return state.areaSummary(area, asOf: time.asOf, knownAt: time.knownAt)
            }
        }
        router.get("/v1/integrity") { _, _ in
            Responses.json(IntegrityAnswer(integrity.snapshot()))
        }
        router.get("/v1/view/digest") { request, _ in
            try answer(request) { state, time in
                ViewDigestAnswer(digest: state.digest(asOf: time.asOf, knownAt: time.knownAt), events: state.eventCount)
            }
        }
        return router
    }

    // MARK: Answers

    private func time(_ request: Request) throws -> ViewTime {
        do {
            return try ViewTime(asOf: request.uri.queryParameters.get("asOf"),
                                knownAt: request.uri.queryParameters.get("knownAt"), now: now())
        } catch {
            throw badParameter(error)
        }
    }

    private func answer<T: Encodable & Sendable>(_ request: Request,
                                                 _ body: (ProjectionState, ViewTime) throws -> T) throws -> Response {
        let time = try self.time(request)
        do {
            return Responses.json(Answer(time: time, data: try body(view.snapshot(), time)))
        } catch let notFound as NotFound {
            return Responses.problem(notFound.problem)
        }
    }

    private func answerList<T: Encodable & Sendable>(
        _ request: Request, _ body: (ProjectionState, ViewTime, PageRequest) throws -> Page<T>
    ) throws -> Response {
        let time = try self.time(request)
        let page: PageRequest
        do {
            page = try PageRequest(limit: request.uri.queryParameters.get("limit"),
                                   cursor: request.uri.queryParameters.get("cursor"))
        } catch {
            throw badParameter(error)
        }
        do {
            return Responses.json(ListAnswer(time: time, page: try body(view.snapshot(), time, page)))
        } catch let notFound as NotFound {
            return Responses.problem(notFound.problem)
        } catch let invalid as InvalidQueryParameter {
            throw badParameter(invalid)
        }
    }

    private func found<T>(_ value: T?, _ what: String, _ time: ViewTime) throws -> T {
        guard let value else { throw NotFound(what: what, time: time) }
        return value
    }

    private func badParameter(_ error: InvalidQueryParameter) -> ProblemError {
        ProblemError(ProblemDetails(slug: "invalid-query-parameter", title: "Invalid query parameter", status: 400,
                             detail: error.description))
    }

    private func flagFilter(_ request: Request) throws -> FlagFilter {
        let query = request.uri.queryParameters
        var filter = FlagFilter()
        if let agency = query.get("agency") {
            if let kind = AgencyKind(rawValue: agency) {
                filter.accountableKind = kind
            } else if EventSource(urn: agency) != nil {
                filter.accountable = agency
            } else {
                throw InvalidQueryParameter(name: "agency", message: "expected probation, interventions, commissioner or an agency URN such as urn:accord:interventions:ace-payback, got '\(agency)'")
            }
        }
        filter.area = query.get("area")
        if let rule = query.get("rule") {
            guard let parsed = FlagRule(rawValue: rule) else {
                let known = FlagRule.allCases.map(\.rawValue).joined(separator: ", ")
                throw InvalidQueryParameter(name: "rule", message: "unknown rule '\(rule)'; known rules: \(known)")
            }
            filter.rule = parsed
        }
        filter.subject = query.get("subject")
        if let open = query.get("open") {
            switch open {
            case "true", "1", "yes": filter.openOnly = true
            case "false", "0", "no": filter.openOnly = false
            default: throw InvalidQueryParameter(name: "open", message: "expected true or false, got '\(open)'")
            }
        }
        return filter
    }

    private func readiness() async throws -> Response {
        let lag: [PartitionLag]
        do {
            lag = try await self.lag()
        } catch {
            return Responses.problem(ProblemDetails(slug: "not-ready", title: "Not ready", status: 503,
                                             detail: "cannot read the consumer's lag: \(error)"))
        }
        let total = lag.reduce(0) { $0 + $1.lag }
        let ready = !lag.isEmpty && total == 0
        let body = Readiness(ready: ready, lag: total, partitions: lag.map {
            PartitionLagAnswer(topic: $0.topicPartition.topic, partition: $0.topicPartition.partition,
                               position: $0.position, highWatermark: $0.highWatermark, lag: $0.lag)
        }, events: view.snapshot().eventCount)
        return Responses.json(body, status: ready ? .ok : .serviceUnavailable)
    }
}

/// A lookup that found nothing at the asked instant.
struct NotFound: Error {
    let what: String
    let time: ViewTime

    var problem: ProblemDetails {
        ProblemDetails(slug: "not-found", title: "Not found", status: 404,
                detail: "\(what) is not in the view as of \(time.asOf)\(time.knownAt.map { " known at \($0)" } ?? "")")
    }
}

/// Liveness.
struct Health: Encodable, Sendable {
    let status: String
    let events: Int
}

/// One answer: the view time and perspective it is about (`knownAt` is always written,
/// null when the answer includes everything recorded so far), and the data.
struct Answer<T: Encodable & Sendable>: Encodable, Sendable {
    let asOf: Timestamp
    let knownAt: Timestamp?
    let perspective: String
    let data: T

    init(time: ViewTime, data: T) {
        asOf = time.asOf
        knownAt = time.knownAt
        perspective = time.perspective
        self.data = data
    }

    private enum CodingKeys: String, CodingKey { case asOf, knownAt, perspective, data }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(asOf, forKey: .asOf)
        try container.encode(knownAt, forKey: .knownAt)
        try container.encode(perspective, forKey: .perspective)
        try container.encode(data, forKey: .data)
    }
}

/// One page of a list answer, with the view time and perspective it is about.
struct ListAnswer<T: Encodable & Sendable>: Encodable, Sendable {
    let asOf: Timestamp
    let knownAt: Timestamp?
    let perspective: String
    let items: [T]
    let total: Int
    let nextCursor: String?

    init(time: ViewTime, page: Page<T>) {
        asOf = time.asOf
        knownAt = time.knownAt
        perspective = time.perspective
        items = page.items
        total = page.total
        nextCursor = page.nextCursor
    }

    private enum CodingKeys: String, CodingKey { case asOf, knownAt, perspective, items, total, nextCursor }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(asOf, forKey: .asOf)
        try container.encode(knownAt, forKey: .knownAt)
        try container.encode(perspective, forKey: .perspective)
        try container.encode(items, forKey: .items)
        try container.encode(total, forKey: .total)
        try container.encodeIfPresent(nextCursor, forKey: .nextCursor)
    }
}

/// A case in the case list.
struct CaseListItem: Encodable, Sendable {
    let caseId: String
    let area: String?
    let status: CaseStatus
    let riskLevel: RiskLevel?
    let openFlags: Int

    init(_ view: CaseView) {
        caseId = view.caseId
        area = view.area
        status = view.status
        riskLevel = view.riskLevel
        openFlags = view.openFlags.count
    }
}

/// A timeline entry with whether the event is still provisional: not yet covered by a signed
/// checkpoint of its source (always true while integrity checking is off).
struct TimelineItem: Encodable, Sendable {
    let entry: TimelineEntry
    let provisional: Bool

    init(_ entry: TimelineEntry, provisional: Bool) {
        self.entry = entry
        self.provisional = provisional
    }

    private enum CodingKeys: String, CodingKey { case provisional }

    func encode(to encoder: any Encoder) throws {
        try entry.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(provisional, forKey: .provisional)
    }
}

/// `/v1/integrity`: verified and provisional events and the last signed journal checkpoint.
struct IntegrityAnswer: Encodable, Sendable {
    let checking: Bool
    let verified: Int
    let provisional: Int
    let chainCheckpoints: Int
    let journalCheckpoints: Int
    let lastJournalCheckpoint: JournalCheckpointAnswer?

    init(_ snapshot: IntegrityStatus.Snapshot) {
        checking = snapshot.checking
        verified = snapshot.verified
        provisional = snapshot.provisional
        chainCheckpoints = snapshot.chainCheckpoints
        journalCheckpoints = snapshot.journalCheckpoints
        lastJournalCheckpoint = snapshot.lastJournalCheckpoint.map(JournalCheckpointAnswer.init)
    }

    private enum CodingKeys: String, CodingKey {
        case checking, verified, provisional, chainCheckpoints, journalCheckpoints, lastJournalCheckpoint
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(checking, forKey: .checking)
        try container.encode(verified, forKey: .verified)
        try container.encode(provisional, forKey: .provisional)
        try container.encode(chainCheckpoints, forKey: .chainCheckpoints)
        try container.encode(journalCheckpoints, forKey: .journalCheckpoints)
        try container.encode(lastJournalCheckpoint, forKey: .lastJournalCheckpoint)
    }
}

/// A signed journal checkpoint as shown by `/v1/integrity`.
struct JournalCheckpointAnswer: Encodable, Sendable {
    let position: Int64
    let entryHash: String
    let viewDigest: String
    let issuedAt: Timestamp
    let signer: String
    let keyId: String
    let signature: String

    init(_ checkpoint: JournalCheckpoint) {
        position = checkpoint.position
        entryHash = checkpoint.entryHash.hex
        viewDigest = checkpoint.viewDigest.hex
        issuedAt = checkpoint.issuedAt
        signer = checkpoint.signer
        keyId = checkpoint.keyId
        signature = checkpoint.signature
    }
}

/// The digest of the whole view.
struct ViewDigestAnswer: Encodable, Sendable {
    let digest: String
    let events: Int
}

/// Readiness and lag.
struct Readiness: Encodable, Sendable {
    let ready: Bool
    let lag: Int64
    let partitions: [PartitionLagAnswer]
    let events: Int
}

/// Lag of one partition.
struct PartitionLagAnswer: Encodable, Sendable {
    let topic: String
    let partition: Int32
    let position: Int64
    let highWatermark: Int64
    let lag: Int64
}
