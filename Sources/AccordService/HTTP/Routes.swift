import AccordEvents
import AccordIntegrity
import Foundation
import Hummingbird
import Logging

extension AgencyService {
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

    /// The router: intake, reactions, health and metrics; every error is problem+json.
    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ProblemMiddleware<BasicRequestContext>(metrics: metrics))
        let handler = IntakeHandler(validator: IntakeValidator(source: source, codec: codec), intake: intake,
                                    metrics: metrics, maxBodyBytes: configuration.maxBodyBytes)
        router.post("/v1/events") { request, context in
            try await handler.handle(request, context: context)
        }
        router.get("/v1/events/:id") { [ledger] _, context -> Response in
            let text = context.parameters.get("id") ?? ""
            guard let id = UUID(uuidString: text), let entry = ledger.entry(id) else {
                return Responses.problem(Problem(slug: "not-found", title: "Not Found", status: 404,
                                                 detail: "this service has not published an event with id \"\(text.prefix(60))\""))
            }
            return Responses.json(entry.acknowledgement)
        }
        router.get("/health") { [self] _, _ -> Response in
            guard isReady else {
                return Responses.problem(Problem(slug: "starting", title: "Service not ready", status: 503,
                                                 detail: "replaying \(configuration.profile.ownTopics.map(\.name).joined(separator: ", ")) to continue the sequence of \(source.urn)"))
            }
            let faults = publisher.faults
            guard faults.isEmpty else {
                let detail = faults.sorted { $0.key.description < $1.key.description }
                    .map { "\($0.key): \($0.value)" }.joined(separator: "; ")
                return Responses.problem(Problem(slug: "chain-halted", title: "Event chain halted", status: 503,
                                                 detail: "\(faults.count) chain(s) halted after a delivery failure; restart the service to re-read their heads from Kafka: \(detail)"))
            }
            return Responses.json(Health(status: "ok", agency: source.agencyId, source: source.urn,
                                         kind: source.kind.rawValue, lastSequence: ledger.lastSequence,
                                         reactionLag: lag.records, keyId: registryEntry.keyId,
                                         chains: publisher.chains.count))
        }
        router.get("/v1/keys") { [registryEntry] _, _ -> Response in
            Responses.json(Keys(keys: [registryEntry]))
        }
        router.get("/metrics") { [metrics] _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
        addReactionRoutes(to: router)
        return router
    }

    private func addReactionRoutes(to router: Router<BasicRequestContext>) {
        switch reactions {
        case .probation(let worklist):
            router.get("/v1/worklist") { [self] _, _ -> Response in
                let items = worklist.items()
                return Responses.json(Worklist(agency: source.agencyId, source: source.urn, asOf: clock.now().rfc3339,
                                               count: items.count, items: items))
            }
        case .interventions(let worklist):
            router.get("/v1/worklist") { [self] _, _ -> Response in
                let items = worklist.items()
                return Responses.json(Worklist(agency: source.agencyId, source: source.urn, asOf: clock.now().rfc3339,
                                               count: items.count, items: items))
            }
        case .commissioner(let alertSource):
            router.get("/v1/alerts") { [self] request, _ -> Response in
                let asOf: Timestamp
                if let text = request.uri.queryParameters.get("asOf") {
                    guard let parsed = Timestamp(rfc3339: text) else {
                        return Responses.problem(Problem(slug: "invalid-query", title: "Invalid query", status: 400,
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
                    return Responses.problem(Problem(slug: "alerts-unavailable", title: "Contract alerts unavailable",
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
            configuration: ApplicationConfiguration(address: .hostname(host, port: port)),
            services: [self],
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                logger.notice("listening", metadata: ["url": "http://\(host):\(bound)"])
            },
            logger: logger)
    }
}
