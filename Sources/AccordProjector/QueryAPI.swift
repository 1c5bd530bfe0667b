import AccordEvents
import AccordIntegrity
import AccordKafka
import AccordProjection
import AccordHTTP
import AccordRuntime
import AccordStore
import Foundation
import Hummingbird
import Logging
import Prometheus

/// The accountability query API served by the projector: cases, timelines, flags, contract
/// performance, area summaries, each as of any instant (`asOf`) and as known at any instant
/// (`knownAt`); plus health, readiness, metrics, the integrity status and the OpenAPI document.
public struct QueryAPI: Sendable {
    let view: any ViewQuerying
    let integrity: IntegrityStatus
    let lag: @Sendable () async throws -> [PartitionLag]
    let provisional: @Sendable ([String]) async throws -> Set<String>
    let logger: Logger
    let registry: PrometheusCollectorRegistry?
    let now: @Sendable () -> Timestamp

    /// Creates the API over `projector`'s store; `now` supplies the default `asOf`.
    public init(projector: Projector, registry: PrometheusCollectorRegistry? = nil, logger: Logger,
                now: @escaping @Sendable () -> Timestamp = ServiceClock.system.now) {
        let store = projector.store
        let checking = projector.integrity.snapshot().checking
        self.init(view: projector.reader, integrity: projector.integrity, lag: { try await projector.lag() },
                  provisional: { ids in
                      guard checking else { return Set(ids) }
                      return try await store.asyncRead { db in try ProjectorStore.provisional(eventIds: ids, in: db) }
                  },
                  registry: registry, logger: logger, now: now)
    }

    /// Creates the API over `view`; `integrity` says whether events are checked; `lag` reports the
    /// consumer's lag for readiness; `provisional` says which of some events are not yet verified
    /// (by default none).
    public init(view: any ViewQuerying, integrity: IntegrityStatus = IntegrityStatus(),
                lag: @escaping @Sendable () async throws -> [PartitionLag],
                provisional: @escaping @Sendable ([String]) async throws -> Set<String> = { _ in [] },
                registry: PrometheusCollectorRegistry? = nil, logger: Logger,
                now: @escaping @Sendable () -> Timestamp = ServiceClock.system.now) {
        self.view = view
        self.integrity = integrity
        self.lag = lag
        self.provisional = provisional
        self.registry = registry
        self.logger = logger
        self.now = now
    }

    /// The Hummingbird application serving the API on `host:port`, closing connections silent
    /// for `idleTimeoutSeconds`.
    public func application(host: String, port: Int,
                            idleTimeoutSeconds: Int = HTTPServerSetup.defaultIdleTimeoutSeconds) -> some ApplicationProtocol {
        Application(router: router(), server: HTTPServerSetup.http1(idleTimeoutSeconds: idleTimeoutSeconds),
                    configuration: .init(address: .hostname(host, port: port), serverName: "accord-projector"), logger: logger)
    }

    /// Every path the router declares, with its methods.
    static let routeTable = RouteTable([
        ("/health", [.get]), ("/ready", [.get]), ("/metrics", [.get]), ("/openapi.json", [.get]),
        ("/v1/cases", [.get]), ("/v1/cases/:caseId", [.get]), ("/v1/cases/:caseId/timeline", [.get]), ("/v1/flags", [.get]),
        ("/v1/contracts/:contractId/performance", [.get]), ("/v1/areas/:area/summary", [.get]), ("/v1/integrity", [.get]),
        ("/v1/view/digest", [.get]),
    ])

    /// The routes of the API.
    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ProblemMiddleware(routes: Self.routeTable))
        router.addRoutes(operationRoutes())
        router.addRoutes(viewRoutes(), atPath: "/v1")
        return router
    }

    // MARK: operations

    private func operationRoutes() -> RouteCollection<BasicRequestContext> {
        let routes = RouteCollection(context: BasicRequestContext.self)
        let view = self.view
        routes.get("/health") { _, _ in
            Responses.json(Health(status: "ok", events: try await view.totalEvents()))
        }
        routes.get("/ready") { _, _ in try await readiness() }
        let registry = self.registry
        routes.get("/metrics") { _, _ in
            var text: [UInt8] = []
            registry?.emit(into: &text)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: text)))
        }
        routes.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: MediaTypes.json],
                     body: ResponseBody(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.bytes)))
        }
        return routes
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
        let snapshot = integrity.snapshot()
        var reasons: [String] = []
        if lag.isEmpty { reasons.append("no partitions assigned yet") }
        if total > 0 { reasons.append("\(total) records not yet applied") }
        if snapshot.unreadRecords > 0 {
            reasons.append("\(snapshot.unreadRecords) records were lost before they could be read (see /v1/integrity)")
        }
        if !snapshot.pendingChains.isEmpty {
            let held = snapshot.pendingChains.reduce(0) { $0 + $1.held }
            reasons.append("\(snapshot.pendingChains.count) chains wait for missing events from their sources, \(held) records held (see /v1/integrity)")
        }
        let flags = snapshot.sourceFlags
        if !flags.isEmpty {
            reasons.append("flagged: \(flags.map(\.source).joined(separator: ", ")) \(flags.count == 1 ? "does" : "do") not serve the events missing from \(flags.count == 1 ? "its" : "their") chains (see /v1/integrity)")
        }
        let body = ProjectorReadiness(ready: reasons.isEmpty, lag: total, partitions: lag.map {
            PartitionLagAnswer(topic: $0.topicPartition.topic, partition: $0.topicPartition.partition,
                               position: $0.position, highWatermark: $0.highWatermark, lag: $0.lag)
        }, events: try await view.totalEvents(), unreadRecords: snapshot.unreadRecords, reasons: reasons)
        return Responses.json(body, status: reasons.isEmpty ? .ok : .serviceUnavailable)
    }

    // MARK: the view

    private func viewRoutes() -> RouteCollection<BasicRequestContext> {
        let routes = RouteCollection(context: BasicRequestContext.self)
        let view = self.view
        let integrity = self.integrity
        let provisional = self.provisional
        routes.get("/cases") { request, _ in
            let (time, page) = try timeAndPage(request)
            return Responses.json(ListAnswer(time: time, page: try await paged {
                try await view.cases(at: time.instant, area: request.uri.queryParameters.get("area"), page: page)
            }))
        }
        routes.get("/cases/:caseId") { request, context in
            let caseId = try context.parameters.require("caseId")
            let time = try self.time(request)
            guard let found = try await view.caseView(caseId, at: time.instant) else {
                return Responses.problem(NotFound(what: "case \(caseId)", time: time).problem)
            }
            return Responses.json(Answer(time: time, data: found))
        }
        routes.get("/cases/:caseId/timeline") { request, context in
            let caseId = try context.parameters.require("caseId")
            let (time, page) = try timeAndPage(request)
            guard let entries = try await view.timeline(caseId, at: time.instant) else {
                return Responses.problem(NotFound(what: "case \(caseId)", time: time).problem)
            }
            let cut = try pageOf(entries, page)
            let pending = try await provisional(cut.items.map(\.eventId))
            return Responses.json(ListAnswer(time: time, page: cut.map {
                TimelineItem($0, provisional: pending.contains($0.eventId))
            }))
        }
        routes.get("/flags") { request, _ in
            let (time, page) = try timeAndPage(request)
            let filter = try flagFilter(request)
            return Responses.json(ListAnswer(time: time, page: try await paged {
                try await view.flags(at: time.instant, filter: filter, page: page)
            }))
        }
        routes.get("/contracts/:contractId/performance") { request, context in
            let contractId = try context.parameters.require("contractId")
            let time = try self.time(request)
            guard let found = try await view.contractPerformance(contractId, at: time.instant) else {
                return Responses.problem(NotFound(what: "contract \(contractId)", time: time).problem)
            }
            return Responses.json(Answer(time: time, data: found))
        }
        routes.get("/areas/:area/summary") { request, context in
            let area = try context.parameters.require("area")
            let time = try self.time(request)
            guard let found = try await view.areaSummary(area, at: time.instant) else {
                return Responses.problem(NotFound(what: "area \(area)", time: time).problem)
            }
            return Responses.json(Answer(time: time, data: found))
        }
        routes.get("/integrity") { _, _ in
            Responses.json(IntegrityAnswer(integrity.snapshot()))
        }
        routes.get("/view/digest") { request, _ in
            let time = try self.time(request)
            return Responses.json(Answer(time: time, data: try await view.digest(at: time.instant)))
        }
        return routes
    }

    // MARK: parameters

    private func time(_ request: Request) throws -> ViewTime {
        do {
            return try ViewTime(asOf: request.uri.queryParameters.get("asOf"),
                                knownAt: request.uri.queryParameters.get("knownAt"), now: now())
        } catch {
            throw badParameter(error)
        }
    }

    private func timeAndPage(_ request: Request) throws -> (ViewTime, PageSpec) {
        let time = try self.time(request)
        do {
            return (time, try PageRequest(limit: request.uri.queryParameters.get("limit"),
                                          cursor: request.uri.queryParameters.get("cursor")).spec)
        } catch {
            throw badParameter(error)
        }
    }

    /// Runs a paged query, answering a cursor the view does not recognise with a 400.
    private func paged<T: Sendable>(_ query: () async throws -> T) async throws -> T {
        do {
            return try await query()
        } catch let error as InvalidCursor {
            throw badParameter(InvalidQueryParameter(name: "cursor", message: error.description))
        }
    }

    private func pageOf<T: Sendable>(_ items: [T], _ page: PageSpec) throws -> ListPage<T> {
        do {
            return try ListPage.cut(items, page)
        } catch {
            throw badParameter(InvalidQueryParameter(name: "cursor", message: error.description))
        }
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
                throw badParameter(InvalidQueryParameter(name: "agency", message: "expected probation, interventions, commissioner or an agency URN such as urn:accord:interventions:ace-payback, got '\(agency)'"))
            }
        }
        filter.area = query.get("area")
        if let rule = query.get("rule") {
            guard let parsed = FlagRule(rawValue: rule) else {
                let known = FlagRule.allCases.map(\.rawValue).joined(separator: ", ")
                throw badParameter(InvalidQueryParameter(name: "rule", message: "unknown rule '\(rule)'; known rules: \(known)"))
            }
            filter.rule = parsed
        }
        filter.subject = query.get("subject")
        if let open = query.get("open") {
            switch open {
            case "true", "1", "yes": filter.openOnly = true
            case "false", "0", "no": filter.openOnly = false
            default: throw badParameter(InvalidQueryParameter(name: "open", message: "expected true or false, got '\(open)'"))
            }
        }
        return filter
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

    init(time: ViewTime, page: ListPage<T>) {
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
    let retracted: Int
    let chainCheckpoints: Int
    let journalCheckpoints: Int
    let lastJournalCheckpoint: JournalCheckpointAnswer?
    let unreadRecords: Int64
    let unread: [UnreadRangeAnswer]
    let pendingChains: [PendingChainAnswer]
    let sourceFlags: [SourceFlagAnswer]
    let backfilled: Int

    init(_ snapshot: IntegrityStatus.Snapshot) {
        checking = snapshot.checking
        verified = snapshot.verified
        provisional = snapshot.provisional
        retracted = snapshot.retracted
        chainCheckpoints = snapshot.chainCheckpoints
        journalCheckpoints = snapshot.journalCheckpoints
        lastJournalCheckpoint = snapshot.lastJournalCheckpoint.map(JournalCheckpointAnswer.init)
        unreadRecords = snapshot.unreadRecords
        unread = snapshot.unread.map(UnreadRangeAnswer.init)
        pendingChains = snapshot.pendingChains.map(PendingChainAnswer.init)
        sourceFlags = snapshot.sourceFlags.map(SourceFlagAnswer.init)
        backfilled = snapshot.backfilled
    }

    private enum CodingKeys: String, CodingKey {
        case checking, verified, provisional, retracted, chainCheckpoints, journalCheckpoints, lastJournalCheckpoint, unreadRecords,
             unread, pendingChains, sourceFlags, backfilled
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(checking, forKey: .checking)
        try container.encode(verified, forKey: .verified)
        try container.encode(provisional, forKey: .provisional)
        try container.encode(retracted, forKey: .retracted)
        try container.encode(chainCheckpoints, forKey: .chainCheckpoints)
        try container.encode(journalCheckpoints, forKey: .journalCheckpoints)
        try container.encode(lastJournalCheckpoint, forKey: .lastJournalCheckpoint)
        try container.encode(unreadRecords, forKey: .unreadRecords)
        try container.encode(unread, forKey: .unread)
        try container.encode(pendingChains, forKey: .pendingChains)
        try container.encode(sourceFlags, forKey: .sourceFlags)
        try container.encode(backfilled, forKey: .backfilled)
    }
}

/// A flag on a source that does not fill its chains' gaps, as shown by `/v1/integrity`.
struct SourceFlagAnswer: Encodable, Sendable {
    let source: String
    let chains: [String]
    let held: Int
    let since: String?
    let reason: String

    init(_ flag: IntegrityStatus.SourceFlag) {
        source = flag.source
        chains = flag.chains.map { "\($0.topic)/\($0.partition)" }
        held = flag.held
        since = flag.since?.rfc3339
        reason = flag.reason
    }

    private enum CodingKeys: String, CodingKey {
        case source, chains, held, since, reason
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(source, forKey: .source)
        try container.encode(chains, forKey: .chains)
        try container.encode(held, forKey: .held)
        try container.encode(since, forKey: .since)
        try container.encode(reason, forKey: .reason)
    }
}

/// A chain waiting for missing events, as shown by `/v1/integrity`.
struct PendingChainAnswer: Encodable, Sendable {
    let source: String
    let topic: String
    let partition: Int32
    let cause: String
    let held: Int
    let lastError: String?
    let retrying: Bool

    init(_ pending: IntegrityStatus.PendingChain) {
        source = pending.chain.source
        topic = pending.chain.topic
        partition = pending.chain.partition
        cause = pending.cause.rawValue
        held = pending.held
        lastError = pending.lastError
        retrying = pending.retrying
        failingSince = pending.failingSince?.rfc3339
        flagged = pending.flagged
    }

    let failingSince: String?
    let flagged: Bool

    private enum CodingKeys: String, CodingKey {
        case source, topic, partition, cause, held, lastError, retrying, failingSince, flagged
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(source, forKey: .source)
        try container.encode(topic, forKey: .topic)
        try container.encode(partition, forKey: .partition)
        try container.encode(cause, forKey: .cause)
        try container.encode(held, forKey: .held)
        try container.encode(lastError, forKey: .lastError)
        try container.encode(retrying, forKey: .retrying)
        try container.encode(failingSince, forKey: .failingSince)
        try container.encode(flagged, forKey: .flagged)
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

/// Readiness and lag.
struct ProjectorReadiness: Encodable, Sendable {
    let ready: Bool
    let lag: Int64
    let partitions: [PartitionLagAnswer]
    let events: Int
    /// Records lost before the projector could read them.
    let unreadRecords: Int64
    /// Why the projector is not ready, when it is not.
    let reasons: [String]
}

/// A range of records the projector could not read.
struct UnreadRangeAnswer: Encodable, Sendable {
    let topic: String
    let partition: Int32
    let fromOffset: Int64
    let untilOffset: Int64
    let records: Int64
    let detectedAt: Timestamp

    init(_ range: UnreadRange) {
        topic = range.topic
        partition = range.partition
        fromOffset = range.from
        untilOffset = range.until
        records = range.count
        detectedAt = range.detectedAt
    }
}

/// Lag of one partition.
struct PartitionLagAnswer: Encodable, Sendable {
    let topic: String
    let partition: Int32
    let position: Int64
    let highWatermark: Int64
    let lag: Int64
}
