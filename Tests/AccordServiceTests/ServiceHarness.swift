import AccordBus
import AccordEvents
import AccordKafka
import AccordService
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// An embedded broker with every Accord topic, and agency services running against it.
final class ServiceHarness: Sendable {
    let cluster: EmbeddedKafkaCluster
    static let partitions: Int32 = 6

    init() throws {
        cluster = try EmbeddedKafkaCluster(brokers: 1)
        for topic in AccordTopic.all {
            try cluster.createTopic(TopicSpec(name: topic.name, partitions: Self.partitions))
        }
    }

    deinit { cluster.shutdown() }

    /// A service of `profile` on this broker, with fast test timings; its partitions are probed.
    func service(_ profile: AgencyProfile, clock: ServiceClock = .system) throws -> AgencyService {
        let configuration = ServiceConfiguration(
            profile: profile, bootstrapServers: cluster.bootstrapServers, port: 0, logLevel: .error,
            consumerProperties: EmbeddedKafkaCluster.consumerGroupProperties,
            deliveryTimeout: .seconds(10), shutdownTimeout: .seconds(3), lagInterval: .milliseconds(200),
            retryDelay: .milliseconds(200), queryTimeout: .seconds(3))
        return try AgencyService(configuration: configuration, clock: clock)
    }

    /// Runs `service` behind the HummingbirdTesting router framework, waits until it is ready,
    /// then runs `body`; the service shuts down gracefully afterwards.
    func run<T: Sendable>(_ service: AgencyService, _ body: @Sendable @escaping (any TestClientProtocol) async throws -> T) async throws -> T {
        try await service.makeApplication().test(.router) { client in
            try await waitUntil("service ready") {
                try await client.execute(uri: "/health", method: .get).status == .ok
            }
            return try await body(client)
        }
    }

    /// Publishes events straight to their topics (as another agency's service would).
    func produce(_ events: [AccordEvent]) async throws {
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
        for result in await producer.send(contentsOf: try events.map { try ProducerRecord(event: $0) }) {
            _ = try result.get()
        }
        _ = await producer.shutdown()
    }

    /// Every event on `topic`, read from the beginning to the current end.
    func events(on topic: AccordTopic) async throws -> [AccordEvent] {
        let consumer = try KafkaConsumer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
        var assignment: [TopicPartition: StartOffset] = [:]
        for partition in 0..<Self.partitions {
            assignment[TopicPartition(topic: topic.name, partition: partition)] = .beginning
        }
        try await consumer.assign(assignment, stopAtEnd: true)
        var events: [AccordEvent] = []
        for try await record in consumer.records { events.append(try record.decodeEvent()) }
        await consumer.close()
        return events.sorted { $0.sequence < $1.sequence }
    }
}

/// Polls `condition` every 50 ms until it holds, failing after `timeout`.
func waitUntil(_ what: String, timeout: Duration = .seconds(30),
               _ condition: @Sendable () async throws -> Bool) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while clock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("timed out waiting for \(what)")
    throw CancellationError()
}

/// Request and response helpers.
enum HTTP {
    static let codec = EventCodec()

    /// The JSON object of a sample payload's data, for building request bodies.
    static func data(_ kind: EventKind, subject: String, variant: Int = 0) throws -> [String: Any] {
        let bytes = try codec.encodeData(EventSamples.payload(kind, subject: subject, variant: variant))
        return try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    static func body(_ object: Any) throws -> ByteBuffer {
        ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    static func post(_ client: any TestClientProtocol, _ object: Any,
                     contentType: String = "application/json") async throws -> TestResponse {
        try await client.execute(uri: "/v1/events", method: .post, headers: [.contentType: contentType], body: try body(object))
    }

    static func post(_ client: any TestClientProtocol, raw body: ByteBuffer,
                     contentType: String = "application/json") async throws -> TestResponse {
        try await client.execute(uri: "/v1/events", method: .post, headers: [.contentType: contentType], body: body)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(buffer: response.body))
    }

    static func json(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
    }

    struct Accepted: Decodable {
        let accepted: [Acknowledgement]
    }
}

extension Data {
    init(buffer: ByteBuffer) {
        self.init(buffer.readableBytesView)
    }
}
