import AccordHTTP
import AccordKafka
import Foundation
import Hummingbird
import Logging
import Synchronization

/// The embedded broker's fault control, served on loopback by `accord broker --fault-port`:
/// `POST /v1/faults` injects one ``BrokerFault`` (JSON), `GET /v1/faults` lists those injected so
/// far, `GET /health` answers once the broker is up. `accord chaos` drives it during an ingest;
/// an operator can drive it with curl to rehearse an outage.
final class BrokerFaultAPI: Sendable {
    /// One fault injected, as `GET /v1/faults` lists it.
    struct Injected: Encodable, Sendable {
        let fault: BrokerFault
        let description: String
        let at: String
    }

    /// `GET /v1/faults` body.
    struct Listing: Encodable {
        let count: Int
        let byKind: [String: Int]
        let faults: [Injected]
    }

    let cluster: EmbeddedKafkaCluster
    /// Partitions of each topic the broker holds, to refuse a fault on one it does not.
    let topics: [String: Int32]
    let logger: Logger
    private let log = Mutex<[Injected]>([])

    init(cluster: EmbeddedKafkaCluster, topics: [String: Int32], logger: Logger) {
        self.cluster = cluster
        self.topics = topics
        self.logger = logger
    }

    static let routes = RouteTable([("/health", [.get]), ("/v1/faults", [.get, .post])])

    /// The routes, behind the problem+json middleware.
    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.middlewares.add(ProblemMiddleware(routes: Self.routes))
        router.get("/health") { [self] _, _ -> Response in
            Responses.json(["status": "ok", "bootstrap": cluster.bootstrapServers])
        }
        router.get("/v1/faults") { [self] _, _ -> Response in
            let faults = log.withLock { $0 }
            let byKind = Dictionary(faults.map { ($0.fault.kind, 1) }, uniquingKeysWith: +)
            return Responses.json(Listing(count: faults.count, byKind: byKind, faults: faults))
        }
        router.post("/v1/faults") { [self] request, _ -> Response in
            let body = try await request.body.collect(upTo: 64 * 1024)
            let fault = try decode(Data(buffer: body))
            try check(fault)
            do {
                try cluster.inject(fault)
            } catch {
                throw ProblemDetails(slug: "fault-refused", title: "Fault refused", status: 422,
                                     detail: "the mock cluster refused \(fault): \(error)")
            }
            let injected = Injected(fault: fault, description: fault.description, at: Date.now.formatted(.iso8601))
            log.withLock { $0.append(injected) }
            logger.notice("fault injected", metadata: ["fault": "\(fault)"])
            return Responses.json(injected, status: .created)
        }
        return router
    }

    private func invalid(_ detail: String) -> ProblemDetails {
        ProblemDetails(slug: "invalid-fault", title: "Invalid fault", status: 400, detail: detail)
    }

    private func decode(_ data: Data) throws -> BrokerFault {
        do {
            return try JSONDecoder().decode(BrokerFault.self, from: data)
        } catch DecodingError.keyNotFound(let key, _) {
            throw invalid("the fault has no \"\(key.stringValue)\"")
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            throw invalid("\"\(context.codingPath.map(\.stringValue).joined(separator: "."))\" has the wrong type")
        } catch DecodingError.dataCorrupted(let context) {
            throw invalid(context.codingPath.isEmpty ? "the body is not a JSON object" : context.debugDescription)
        } catch {
            throw invalid("the body is not a fault: \(error)")
        }
    }

    /// Refuses a broker, topic or partition the cluster does not have (the mock cluster would
    /// create a topic it is asked to move the leader of).
    private func check(_ fault: BrokerFault) throws {
        let broker: Int32
        switch fault {
        case .brokerDown(let id), .brokerUp(let id): broker = id
        case .roundTripTime(let id, let milliseconds):
            guard (0...60_000).contains(milliseconds) else {
                throw invalid("milliseconds must be between 0 and 60000, got \(milliseconds)")
            }
            broker = id
        case .leader(let topic, let partition, let id):
            guard let partitions = topics[topic] else {
                throw invalid("no topic \"\(topic)\"; the broker holds \(topics.keys.sorted().joined(separator: ", "))")
            }
            guard (0..<partitions).contains(partition) else {
                throw invalid("\(topic) has partitions 0 to \(partitions - 1), not \(partition)")
            }
            broker = id
        case .requestErrors(_, _, let count):
            guard (1...10_000).contains(count) else { throw invalid("count must be between 1 and 10000, got \(count)") }
            return
        }
        guard (1...Int32(cluster.brokerCount)).contains(broker) else {
            throw invalid("no broker \(broker); the cluster has brokers 1 to \(cluster.brokerCount)")
        }
    }
}
