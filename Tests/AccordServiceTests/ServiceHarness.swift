import AccordBus
import AccordEvents
import AccordIntegrity
import AccordHTTP
import AccordKafka
import AccordRuntime
import AccordService
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// An embedded broker with every Accord topic, and agency services running against it.
final class ServiceHarness: Sendable {
    let cluster: EmbeddedKafkaCluster
    /// The folder of this harness's outbox files (removed with the harness).
    let folder: URL
    static let partitions: Int32 = 6
    /// One signing key per agency kind (for its default agency id), reused by every instance.
    let keys: [AgencyKind: AgencySigningKey]
    /// The `validFrom` of the test keys' registry entries.
    static let keysValidFrom = Timestamp(startOf: CalendarDate(year: 2000, month: 1, day: 1) ?? EventSamples.defaultDate)

    init() throws {
        var keys: [AgencyKind: AgencySigningKey] = [:]
        for profile in [AgencyProfile.probation, .interventions, .commissioner] {
            let source = try #require(EventSource(kind: profile.kind, agencyId: profile.defaultAgencyId))
            keys[profile.kind] = AgencySigningKey.generate(signer: source.urn)
        }
        self.keys = keys
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("accord-service-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        cluster = try EmbeddedKafkaCluster(brokers: 1)
        for topic in AccordTopic.all {
            try cluster.createTopic(TopicSpec(name: topic.name, partitions: Self.partitions))
        }
    }

    deinit {
        cluster.shutdown()
        try? FileManager.default.removeItem(at: folder)
    }

    /// The outbox file of `profile`'s default agency in this harness (one per agency, reused by
    /// every instance, so a new instance restarts from it).
    func outboxPath(_ profile: AgencyProfile) -> String {
        folder.appendingPathComponent("\(profile.defaultAgencyId).outbox.sqlite").path
    }

    /// A service of `profile` on this broker, with fast test timings; its partitions are probed.
    /// Signs with the harness's key of the profile's kind; checkpoints every `checkpointEvery`
    /// events or `checkpointInterval`.
    func service(_ profile: AgencyProfile, clock: ServiceClock = .system, checkpointEvery: Int = 1000,
                 checkpointInterval: Duration = .seconds(1), deliveryTimeout: Duration = .seconds(10),
                 shutdownTimeout: Duration = .seconds(5), maxPending: Int = 100_000,
                 retention: OutboxRetention = .default, alertSource: (any ContractAlertSource)? = nil,
                 kafkaProperties: [String: String] = [:], acceptsRecordedTime: Bool = false,
                 skippedSequences: Set<Int64> = []) throws -> AgencyService {
        let key = try #require(keys[profile.kind])
        let configuration = ServiceConfiguration(
            profile: profile, bootstrapServers: cluster.bootstrapServers, port: 0, logLevel: .error,
            kafkaProperties: kafkaProperties, consumerProperties: EmbeddedKafkaCluster.consumerGroupProperties,
            deliveryTimeout: deliveryTimeout, shutdownTimeout: shutdownTimeout, lagInterval: .milliseconds(200),
            retryDelay: .milliseconds(200), queryTimeout: .seconds(3),
            signingKey: .key(key, validFrom: Self.keysValidFrom),
            checkpointEvery: checkpointEvery, checkpointInterval: checkpointInterval,
            outboxPath: outboxPath(profile), outboxMaxPending: maxPending, outboxRetention: retention,
            acceptsRecordedTime: acceptsRecordedTime, skippedSequences: skippedSequences)
        return try AgencyService(configuration: configuration, clock: clock, alertSource: alertSource)
    }

    /// A registry of the harness's public keys.
    func registry() throws -> KeyRegistry {
        try KeyRegistry(keys: keys.values.sorted { $0.signer < $1.signer }
            .map { $0.registryEntry(validFrom: Self.keysValidFrom) })
    }

    /// Every record on `topic` (events and checkpoints), partition by partition, in offset order.
    func records(on topic: AccordTopic) async throws -> [ConsumerRecord] {
        let consumer = try KafkaConsumer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
        var assignment: [TopicPartition: StartOffset] = [:]
        for partition in 0..<Self.partitions {
            assignment[TopicPartition(topic: topic.name, partition: partition)] = .beginning
        }
        try await consumer.assign(assignment, stopAtEnd: true)
        var records: [ConsumerRecord] = []
        for try await record in consumer.records { records.append(record) }
        await consumer.close()
        return records.sorted { ($0.partition, $0.offset) < ($1.partition, $1.offset) }
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

    /// Waits until `service` has every outbox entry on Kafka.
    func drained(_ client: any TestClientProtocol) async throws {
        try await waitUntil("outbox drained") {
            let health = try HTTP.json(try await client.execute(uri: "/health", method: .get))
            return (health["outbox"] as? [String: Any])?["pending"] as? Int == 0
        }
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
        for try await record in consumer.records where !ChainCheckpoint.isCheckpointRecord(record.binaryMessage) {
            events.append(try record.decodeEvent())
        }
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
