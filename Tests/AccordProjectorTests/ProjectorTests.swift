import AccordBus
import AccordEvents
import AccordKafka
import AccordProjection
import AccordProjector
import AccordStore
import Foundation
import Testing

@Suite("Projector against the embedded broker over TCP", .serialized, .timeLimit(.minutes(3)), .tags(.broker))
struct ProjectorTests {
    static func cluster() throws -> EmbeddedKafkaCluster {
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        for topic in AccordTopic.all {
            try cluster.createTopic(TopicSpec(name: topic.name, partitions: 3))
        }
        return cluster
    }

    static func configuration(_ cluster: EmbeddedKafkaCluster, store: String) -> ProjectorConfiguration {
        ProjectorConfiguration(bootstrapServers: cluster.bootstrapServers, storePath: store, port: 0, batchSize: 200,
                               consumerProperties: EmbeddedKafkaCluster.consumerGroupProperties)
    }

    static func publish(_ events: [AccordEvent], to cluster: EmbeddedKafkaCluster) async throws {
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
        let publisher = EventPublisher(producer: producer)
        for result in await publisher.publish(contentsOf: events) { _ = try result.get() }
        _ = await producer.shutdown()
    }

    /// Runs `projector` until `condition` holds (or the deadline passes), then stops it.
    static func run(_ projector: Projector, until condition: @escaping @Sendable () async throws -> Bool) async throws {
        let task = Task { try await projector.run() }
        let deadline = ContinuousClock.now + .seconds(60)
        while try await !condition(), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        task.cancel()
        try await task.value
    }

    /// Runs `projector` until its view holds `count` events.
    static func run(_ projector: Projector, untilEvents count: Int) async throws {
        try await run(projector) { try await projector.reader.totalEvents() == count }
    }

    static func deadLetters(in cluster: EmbeddedKafkaCluster) async throws -> [ConsumerRecord] {
        let consumer = try KafkaConsumer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
        var assignment: [TopicPartition: StartOffset] = [:]
        for partition in 0..<3 { assignment[TopicPartition(topic: AccordTopic.deadLetter.name, partition: Int32(partition))] = .beginning }
        try await consumer.assign(assignment, stopAtEnd: true)
        var records: [ConsumerRecord] = []
        for try await record in consumer.records { records.append(record) }
        await consumer.close()
        return records
    }

    @Test("good events reach view, journal and stored offsets; bad records go to the dead-letter topic with a reason")
    func appliesAndDeadLetters() async throws {
        let cluster = try Self.cluster()
        defer { cluster.shutdown() }
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("accord-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: store) }
        let events = EventSamples.mixed(count: 600, caseCount: 40)
        try await Self.publish(Array(events[..<300]), to: cluster)
        // A record on the probation topic claiming to come from a provider, and one that is not JSON.
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
        var forged = try ProducerRecord(event: EventSamples.oneOfEach()[0])
        forged.headers = forged.headers.map {
            $0.key == "ce_source" ? KafkaHeader(key: "ce_source", string: "urn:accord:interventions:rogue") : $0
        }
        var garbled = try ProducerRecord(event: EventSamples.oneOfEach()[1])
        garbled.value = Array("{not json".utf8)
        _ = try await producer.send(forged)
        _ = try await producer.send(garbled)
        _ = await producer.shutdown()
        try await Self.publish(Array(events[300...]), to: cluster)

        let projector = try Projector(configuration: Self.configuration(cluster, store: store))
        try await Self.run(projector, untilEvents: events.count)
        #expect(try await projector.reader.totalEvents() == events.count, "every valid event applied, after the bad ones")

        let opened = try ProjectorStore(path: store)
        #expect(try opened.journalCount() == events.count)
        let dead = try opened.deadLetters()
        #expect(dead.count == 2)
        #expect(dead.contains { $0.reason.contains("ce_source") })
        let letters = try await Self.deadLetters(in: cluster)
        #expect(letters.count == 2)
        let reasons = letters.compactMap { $0.header(DeadLetterPublisher.reasonHeader)?.stringValue }
        #expect(reasons.count == 2 && reasons.allSatisfy { !$0.isEmpty })
        #expect(letters.contains { $0.value == Array("{not json".utf8) }, "the original bytes are kept")
        let stored = try opened.offsets().reduce(0) { $0 + $1.nextOffset }
        #expect(stored == Int64(events.count + 2), "offsets cover every record read, good or bad")
    }

    @Test("after a restart the projector rebuilds its view from the journal and resumes from the stored offsets")
    func restartResumes() async throws {
        let cluster = try Self.cluster()
        defer { cluster.shutdown() }
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("accord-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: store) }
        let events = EventSamples.mixed(count: 800, caseCount: 60)
        try await Self.publish(Array(events[..<500]), to: cluster)
        let first = try Projector(configuration: Self.configuration(cluster, store: store))
        try await Self.run(first, untilEvents: 500)
        #expect(try await first.reader.totalEvents() == 500)

        try await Self.publish(Array(events[500...]), to: cluster)
        let second = try Projector(configuration: Self.configuration(cluster, store: store))
        #expect(try await second.reader.totalEvents() == 500, "the view is in the store: nothing to replay before consuming")
        try await Self.run(second, untilEvents: events.count)

        var uninterrupted = ProjectionState()
        for event in events { uninterrupted.apply(event, recordedAt: event.time) }
        let asOf = try #require(events.map(\.time).max())
        let instant = ViewInstant(asOf: asOf)
        #expect(try ProjectorStore(path: store).journalCount() == events.count, "nothing journaled twice")
        #expect(try await second.reader.caseView("X000001", at: instant) == uninterrupted.caseView("X000001", asOf: asOf))
        let flags = try await second.reader.flags(at: instant, filter: .all, page: PageSpec(limit: 1000))
        #expect(flags.items == uninterrupted.flags(asOf: asOf))
        var writer = try ViewStoreWriter(store: try ProjectorStore(path: store), rules: .defaults)
        #expect(try writer.viewDigest() == uninterrupted.viewDigest(), "the stopped and restarted projector built the same view")
    }
}
