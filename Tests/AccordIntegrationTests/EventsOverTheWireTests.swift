import AccordEvents
import AccordKafka
import Foundation
import Testing

@Suite("Typed events over the embedded broker (TCP)", .serialized, .timeLimit(.minutes(3)), .tags(.broker))
struct EventsOverTheWireTests {
    /// Checks that `records` decode to exactly `sent`: none lost, none doubled, equal, and in per-key order.
    static func verify(_ records: [ConsumerRecord], against sent: [AccordEvent]) throws {
        let decoded = try records.map(EventWire.event(from:))
        let byId = Dictionary(grouping: decoded, by: \.id)
        let missing = sent.filter { byId[$0.id] == nil }
        let doubled = byId.values.filter { $0.count > 1 }
        let unequal = sent.filter { event in byId[event.id]?.first.map { $0 != event } ?? false }
        #expect(missing.isEmpty, "\(missing.count) of \(sent.count) lost, e.g. \(missing.prefix(3).map { "\($0.kind.topic.name)/\($0.partitionKey)#\($0.sequence)" })")
        #expect(doubled.isEmpty, "\(doubled.count) delivered more than once")
        #expect(unequal.isEmpty, "\(unequal.count) arrived different from what was sent")
        #expect(decoded.count == sent.count, "received \(decoded.count) of \(sent.count)")
        // Per key (topic + case/contract), the consumed order is the produced order.
        func orderByKey(_ events: [AccordEvent]) -> [String: [UUID]] {
            events.reduce(into: [:]) { $0["\($1.kind.topic.name)/\($1.partitionKey)", default: []].append($1.id) }
        }
        let expected = orderByKey(sent)
        let received = orderByKey(decoded)
        let outOfOrder = expected.keys.filter { expected[$0] != received[$0] }
        #expect(outOfOrder.isEmpty, "\(outOfOrder.count) keys out of order, e.g. \(outOfOrder.sorted().prefix(3))")
    }

    @Test("10,000 mixed events are produced and consumed back equal, in per-key order, none lost or doubled")
    func tenThousandMixedEvents() async throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 3)
        defer { cluster.shutdown() }
        try EventWire.createTopics(on: cluster)
        let events = EventSamples.mixed(count: 10_000, caseCount: 400)
        #expect(Set(events.map(\.kind)).count == EventKind.allCases.count, "every event kind is in the mix")

        let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
        let results = await producer.send(contentsOf: try events.map(EventWire.record(for:)))
        #expect(await producer.shutdown().undelivered == 0)
        let metadata = try results.map { try $0.get() }
        // Acknowledged offsets are unique per partition.
        #expect(Set(metadata).count == events.count)

        let records = try await EventWire.readAll(from: cluster)
        try Self.verify(records, against: events)
    }

    @Test("with a broker down during produce, every record is delivered exactly once")
    func brokerDownDuringProduce() async throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 3)
        defer { cluster.shutdown() }
        try EventWire.createTopics(on: cluster)
        let events = EventSamples.mixed(count: 3_000, caseCount: 200)
        let producer = try KafkaProducer(configuration: .init(
            bootstrapServers: cluster.bootstrapServers, properties: ["retry.backoff.ms": "50"]))
        // The two halves run concurrently, so they share no key: the order within a key is then
        // the order one task queued it in, however a loaded machine schedules the two tasks.
        let keys = Array(Set(events.map { "\($0.kind.topic.name)/\($0.partitionKey)" })).sorted()
        let firstKeys = Set(keys.enumerated().filter { $0.offset.isMultiple(of: 2) }.map(\.element))
        let (first, second) = try events.reduce(into: ([ProducerRecord](), [ProducerRecord]())) { halves, event in
            let record = try EventWire.record(for: event)
            if firstKeys.contains("\(event.kind.topic.name)/\(event.partitionKey)") {
                halves.0.append(record)
            } else {
                halves.1.append(record)
            }
        }

        let firstHalf = Task { await producer.send(contentsOf: first) }
        try await Task.sleep(for: .milliseconds(30))
        try cluster.setBrokerDown(2)
        let secondHalf = Task { await producer.send(contentsOf: second) }
        try await Task.sleep(for: .milliseconds(1_500))
        try cluster.setBrokerUp(2)

        let results = await firstHalf.value + secondHalf.value
        let failures = Set(results.compactMap { result -> String? in
            if case .failure(let error) = result { return "\(error)" } else { return nil }
        })
        #expect(failures.isEmpty, "every send acknowledged; failures: \(failures.sorted())")
        #expect(await producer.shutdown().undelivered == 0)
        try Self.verify(try await EventWire.readAll(from: cluster), against: events)
    }

    @Test("with Produce requests failing, the idempotent producer still delivers every record exactly once")
    func produceRequestErrors() async throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 3)
        defer { cluster.shutdown() }
        try EventWire.createTopics(on: cluster)
        let events = EventSamples.mixed(count: 3_000, caseCount: 200)
        // Errors a real broker returns in Produce responses, all retriable. (NETWORK_EXCEPTION is a
        // client-side condition that brokers never send; librdkafka 2.0.2 fails the batch on it.)
        cluster.pushRequestErrors(.produce, [
            .notEnoughReplicas, .requestTimedOut, .notLeaderOrFollower, .notEnoughReplicasAfterAppend,
            .leaderNotAvailable, .notEnoughReplicas, .requestTimedOut, .notEnoughReplicasAfterAppend,
        ])
        let producer = try KafkaProducer(configuration: .init(
            bootstrapServers: cluster.bootstrapServers, properties: ["retry.backoff.ms": "20"]))
        let results = await producer.send(contentsOf: try events.map(EventWire.record(for:)))
        let failures = Set(results.compactMap { result -> String? in
            if case .failure(let error) = result { return "\(error)" } else { return nil }
        })
        #expect(failures.isEmpty, "every send acknowledged; failures: \(failures.sorted())")
        #expect(await producer.shutdown().undelivered == 0)
        try Self.verify(try await EventWire.readAll(from: cluster), against: events)
    }
}
