import AccordEvents
import AccordHTTP
import AccordIntegrity
import Foundation
import Hummingbird
import Logging

extension AgencyService {
    /// The outbox as `/health` and `/ready` report it.
    struct OutboxHealth: Encodable {
        /// Entries (events and checkpoints) Kafka has not acknowledged.
        var pending: Int
        /// The bound above which intake answers 503.
        var maxPending: Int
        /// Age in seconds of the oldest entry the relay is working on, if any.
        var oldestPendingAgeSeconds: Double?
        /// What the relay is doing.
        var relay: RelayState
        /// The relay's latest failure, until its next success.
        var relayError: String?
        /// The outbox file.
        var path: String
    }

    /// `GET /health` body once ready.
    struct Health: Encodable {
        var status: String
        var agency: String
        var source: String
        var kind: String
        var lastSequence: Int64
        var reactionLag: Int64?
        /// The id of the key signing this service's checkpoints.
        var keyId: String
        /// Chains this service publishes to.
        var chains: Int
        /// The outbox and its relay.
        var outbox: OutboxHealth
    }

    /// `GET /ready` body.
    struct Ready: Encodable {
        /// Whether the intake accepts events now.
        var ready: Bool
        /// Why not, when not.
        var reason: String?
        var outbox: OutboxHealth
    }

    /// `GET /v1/keys` body: a key registry (`schemas/integrity.md` §5) holding this service's key.
    struct Keys: Encodable {
        var keys: [RegisteredKey]
    }
    /// `GET /v1/worklist` body.
    struct Worklist<Item: Encodable>: Encodable {
        var agency: String
        var source: String
        var asOf: String
        var count: Int
        var items: [Item]
    }

    /// `GET /v1/alerts` body.
    struct Alerts: Encodable {
        var agency: String
        var source: String
        var asOf: String
        var count: Int
        var alerts: [ContractAlert]
    }

    var outboxHealth: OutboxHealth {
        let status = relay.status
        let age = status.oldestPendingAcceptedAtMilliseconds.map { accepted in
            max(0, Double(Outbox.milliseconds(clock.now()) - accepted) / 1000)
        }
        return OutboxHealth(pending: outbox.pendingCount, maxPending: outbox.pendingLimit, oldestPendingAgeSeconds: age,
                            relay: status.state, relayError: status.lastError, path: outbox.path)
    }

    /// Every path the router below declares, with its methods (the commissioner's alerts path is
    /// listed for every kind; elsewhere it is 404 whatever the method).
    static let routeTable = RouteTable([
        ("/v1/events", [.post]), ("/v1/events/:id", [.get]), ("/v1/chains/:topic/:partition/events", [.get]),
        ("/health", [.get]), ("/ready", [.get]), ("/v1/keys", [.get]), ("/metrics", [.get]), ("/v1/worklist", [.get]),
        ("/v1/alerts", [.get]),
    ])

    /// The router: intake, chain ranges, reactions, health and metrics; every error is problem+json.
    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ProblemMiddleware<BasicRequestContext>(routes: Self.routeTable,
                                                                      onResponse: { [metrics] in metrics.httpResponse(status: $0) }))
        let validator = IntakeValidator(source: source, codec: codec, acceptsRecordedTime: configuration.acceptsRecordedTime)
        let handler = IntakeHandler(validator: validator, intake: intake, clock: clock,
                                    metrics: metrics, maxBodyBytes: configuration.maxBodyBytes)
        router.post("/v1/events") { request, context in
            try await handler.handle(request, context: context)
        }
        router.get("/v1/events/:id") { [outbox] _, context -> Response in
            let text = context.parameters.get("id") ?? ""
            guard let id = UUID(uuidString: text), let ack = try await outbox.acknowledgement(of: id) else {
                throw ProblemDetails(slug: "not-found", title: "Not Found", status: 404,
                                     detail: "this service has not accepted an event with id \"\(text.prefix(60))\"")
            }
            return Responses.json(ack)
        }
        let chains = ChainRangeHandler(outbox: outbox, source: source, topics: configuration.profile.ownTopics.map(\.name))
        router.get("/v1/chains/:topic/:partition/events") { request, context -> Response in
            try await chains.handle(request, context: context)
        }
        router.get("/health") { [self] _, _ -> Response in
            guard isReady else {
                throw ProblemDetails(slug: "starting", title: "Service not ready", status: 503,
                                     detail: "learning the partition counts of \(configuration.profile.ownTopics.map(\.name).joined(separator: ", ")) (stored in the outbox after the first start)",
                                     retryAfterSeconds: 1)
            }
            return Responses.json(Health(status: "ok", agency: source.agencyId, source: source.urn,
                                         kind: source.kind.rawValue, lastSequence: outbox.lastSequence,
                                         reactionLag: lag.records, keyId: registryEntry.keyId,
                                         chains: outbox.chains.count, outbox: outboxHealth))
        }
        router.get("/ready") { [self] _, _ -> Response in
            let health = outboxHealth
            let reason: String? = if !isReady {
                "starting"
            } else if readiness.isClosed {
                "shutting down"
            } else if health.pending >= health.maxPending {
                "the outbox holds \(health.pending) unsent entries, its bound"
            } else {
                nil
            }
            return Responses.json(Ready(ready: reason == nil, reason: reason, outbox: health),
                                  status: reason == nil ? .ok : .serviceUnavailable)
        }
        router.get("/v1/keys") { [registryEntry] _, _ -> Response in
            Responses.json(Keys(keys: [registryEntry]))
        }
        router.get("/metrics") { [metrics, outbox] _, _ -> Response in
            metrics.pending(outbox.pendingCount)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
        addReactionRoutes(to: router)
        return router
    }

    /// 503 problem for a worklist the reaction view cannot answer.
    private static func worklistUnavailable(_ error: any Error) -> Response {
        Responses.problem(ProblemDetails(slug: "worklist-unavailable", title: "Worklist unavailable", status: 503,
                                         detail: "\(error)"))
    }

    /// `GET /v1/worklist`: the items `items` lists as of now, or 503 when the reaction view cannot answer.
    private func addWorklistRoute<Item: Encodable & Sendable>(to router: Router<BasicRequestContext>,
                                                             items: @escaping @Sendable (Timestamp) throws -> [Item]) {
        router.get("/v1/worklist") { [self] _, _ -> Response in
            let now = clock.now()
            do {
                let listed = try items(now)
                return Responses.json(Worklist(agency: source.agencyId, source: source.urn, asOf: now.rfc3339,
                                               count: listed.count, items: listed))
            } catch {
                return Self.worklistUnavailable(error)
            }
        }
    }

    private func addReactionRoutes(to router: Router<BasicRequestContext>) {
        switch reactions {
        case .probation(let worklist):
            addWorklistRoute(to: router) { try worklist.items(asOf: $0) }
        case .interventions(let worklist):
            addWorklistRoute(to: router) { try worklist.items(asOf: $0) }
        case .commissioner(let alertSource):
            router.get("/v1/alerts") { [self] request, _ -> Response in
                let asOf: Timestamp
                if let text = request.uri.queryParameters.get("asOf") {
                    guard let parsed = Timestamp(rfc3339: text) else {
                        return Responses.problem(ProblemDetails(slug: "invalid-query", title: "Invalid query", status: 400,
                                                         detail: "asOf \"\(text.prefix(60))\" is not an RFC 3339 date-time such as 2025-03-01T09:30:00Z"))
                    }
                    asOf = parsed
                } else {
                    asOf = clock.now()
                }
                do {
                    let alerts = try alertSource.alerts(commissionerId: source.agencyId, asOf: asOf)
                    return Responses.json(Alerts(agency: source.agencyId, source: source.urn, asOf: asOf.rfc3339,
                                                 count: alerts.count, alerts: alerts))
                } catch {
                    return Responses.problem(ProblemDetails(slug: "alerts-unavailable", title: "Contract alerts unavailable",
                                                     status: 503, detail: "\(error)"))
                }
            }
        }
    }

    /// The Hummingbird application: the router, bound to the configured host and port, with this
    /// service among its services (so it stops after the HTTP server). Logs one notice line with
    /// the listening URL once the server runs.
    public func makeApplication() -> Application<RouterResponder<BasicRequestContext>> {
        let logger = self.logger
        let host = configuration.host
        let port = configuration.port
        return Application(
            router: makeRouter(),
            server: HTTPServerSetup.http1(idleTimeoutSeconds: configuration.httpIdleTimeoutSeconds),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port)),
            services: [self],
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                logger.notice("listening", metadata: ["url": "http://\(host):\(bound)"])
            },
            logger: logger)
    }
}
