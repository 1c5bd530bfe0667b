import AccordKafka
import Foundation
import Synchronization
import Testing

/// Counts records whose offsets were committed, per record id, across consumers.
final class CommittedLedger: Sendable {
    private let counts = Mutex<[Int: Int]>([:])
    let expected: Int

    init(expected: Int) { self.expected = expected }

    /// Adds one committed record; returns true once every expected record is in.
    func add(_ id: Int) -> Bool {
        counts.withLock { counts in
            counts[id, default: 0] += 1
            return counts.count >= expected
        }
    }

    var snapshot: [Int: Int] { counts.withLock { $0 } }
}

@Suite("Consumer groups against the embedded broker", .timeLimit(.minutes(2)), .tags(.broker))
struct ConsumerGroupTests {
    /// Consumes until the ledger is complete; a record counts only if its offset commit succeeded.
    static func consume(_ consumer: KafkaConsumer, into ledger: CommittedLedger) async throws -> Int {
        var mine = 0
        for try await record in consumer.records {
            let id = try #require(record.header("id")?.stringValue.flatMap(Int.init))
            do {
                try await consumer.commit([record])
            } catch let error as KafkaError where error.kind == .partitionNotAssigned || error.kind == .commit {
                continue // the partition moved; its new owner reads this record again
            }
            mine += 1
            if ledger.add(id) { break }
        }
        return mine
    }

    @Test("two members share partitions and survive a rebalance without loss or duplication")
    func rebalanceWithoutLossOrDuplication() async throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        defer { cluster.shutdown() }
        try cluster.createTopic(TopicSpec(name: "g", partitions: 6))
        let total = 2_000
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for id in 0..<total {
                group.addTask {
                    _ = try await producer.send(ProducerRecord(topic: "g", key: "case-\(id % 97)", value: [1],
                                                               headers: [KafkaHeader(key: "id", string: "\(id)")]))
                }
            }
            try await group.waitForAll()
        }
        _ = await producer.shutdown()

        let ledger = CommittedLedger(expected: total)
        let events = Mutex<[String]>([])
        func member(_ name: String) throws -> KafkaConsumer {
            try KafkaConsumer(
                configuration: .init(bootstrapServers: cluster.bootstrapServers, groupID: "group",
                                     clientID: name, bufferCapacity: 100,
                                     properties: EmbeddedKafkaCluster.consumerGroupProperties),
                rebalanceHandler: { event in events.withLock { $0.append("\(name) \(event)") } })
        }
        let first = try member("a")
        try first.subscribe(["g"])
        let firstTask = Task { try await Self.consume(first, into: ledger) }
        // Let the first member get going, then add a second: the group rebalances mid-stream.
        while ledger.snapshot.count < 300 { try await Task.sleep(for: .milliseconds(20)) }
        let second = try member("b")
        try second.subscribe(["g"])
        let secondTask = Task { try await Self.consume(second, into: ledger) }

        // Whoever completes the ledger stops; then stop the other one.
        while ledger.snapshot.count < total { try await Task.sleep(for: .milliseconds(50)) }
        await first.close()
        await second.close()
        let fromFirst = try await firstTask.value
        let fromSecond = try await secondTask.value

        let counts = ledger.snapshot
        #expect(counts.count == total, "every record committed once")
        #expect(counts.values.allSatisfy { $0 == 1 }, "no record committed twice")
        #expect(fromFirst + fromSecond == total)
        #expect(fromSecond > 0, "the second member took over partitions")
        let log = events.withLock { $0 }
        #expect(log.contains { $0.hasPrefix("a revoked") }, "the first member saw its partitions revoked: \(log)")
        #expect(log.contains { $0.hasPrefix("b assigned") })
    }
}
