import AccordKafka
import Foundation
import Testing

@Suite("Producer against the embedded broker over TCP", .tags(.broker))
struct ProducerTests {
    @Test("send returns the partition and offset the broker acknowledged")
    func sendReturnsMetadata() async throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        defer { cluster.shutdown() }
        try cluster.createTopic(TopicSpec(name: "t", partitions: 3))
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
        var offsets: [Int32: [Int64]] = [:]
        for index in 0..<30 {
            let metadata = try await producer.send(ProducerRecord(topic: "t", key: "case-\(index % 5)", value: Array("v\(index)".utf8)))
            #expect(metadata.topic == "t")
            #expect((0..<3).contains(metadata.partition))
            offsets[metadata.partition, default: []].append(metadata.offset)
        }
        // Offsets within each partition are dense and increasing from 0.
        for (_, list) in offsets {
            #expect(list == Array(0..<Int64(list.count)))
        }
        let report = await producer.shutdown()
        #expect(report.undelivered == 0)
    }

    @Test("one key always lands on one partition")
    func keyStickiness() async throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        defer { cluster.shutdown() }
        try cluster.createTopic(TopicSpec(name: "t", partitions: 6))
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
        var partitionOfKey: [String: Set<Int32>] = [:]
        for index in 0..<120 {
            let key = "X\(100_000 + index % 12)"
            let metadata = try await producer.send(ProducerRecord(topic: "t", key: key, value: [1]))
            partitionOfKey[key, default: []].insert(metadata.partition)
        }
        #expect(partitionOfKey.count == 12)
        #expect(partitionOfKey.values.allSatisfy { $0.count == 1 })
        // Twelve keys over six partitions should not all collapse onto one.
        #expect(Set(partitionOfKey.values.flatMap { $0 }).count > 1)
        _ = await producer.shutdown()
    }

    @Test("a full local queue applies backpressure instead of failing")
    func backpressure() async throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        defer { cluster.shutdown() }
        try cluster.createTopic(TopicSpec(name: "t", partitions: 2))
        let producer = try KafkaProducer(configuration: .init(
            bootstrapServers: cluster.bootstrapServers,
            properties: ["queue.buffering.max.messages": "8"]))
        let results = try await withThrowingTaskGroup(of: RecordMetadata.self) { group in
            for index in 0..<500 {
                group.addTask { try await producer.send(ProducerRecord(topic: "t", key: "k\(index)", value: [UInt8(index % 256)])) }
            }
            return try await group.reduce(into: [RecordMetadata]()) { $0.append($1) }
        }
        #expect(results.count == 500)
        #expect(Set(results).count == 500)
        _ = await producer.shutdown()
    }

    @Test("shutdown waits within its deadline and reports records that did not make it")
    func shutdownReportsUndelivered() async throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        defer { cluster.shutdown() }
        try cluster.createTopic(TopicSpec(name: "t", partitions: 1))
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
        _ = try await producer.send(ProducerRecord(topic: "t", key: "a", value: [0]))
        try cluster.setBrokerDown(1)
        let pending = Task {
            await withTaskGroup(of: Bool.self) { group in
                for index in 0..<5 {
                    group.addTask {
                        (try? await producer.send(ProducerRecord(topic: "t", key: "k\(index)", value: [1]))) != nil
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
        }
        // Wait until all five are queued (they cannot be delivered while the broker is down).
        let deadline = ContinuousClock.now + .seconds(10)
        while producer.inFlight < 5 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(producer.inFlight == 5)
        let report = await producer.shutdown(timeout: .milliseconds(500))
        #expect(report.undelivered == 5)
        let outcomes = await pending.value
        #expect(outcomes == [false, false, false, false, false])
        await #expect(throws: KafkaError.self) {
            try await producer.send(ProducerRecord(topic: "t", key: "late", value: [2]))
        }
    }

    @Test("an invalid property is rejected with an error naming it")
    func invalidConfiguration() throws {
        let error = #expect(throws: KafkaError.self) {
            _ = try KafkaProducer(configuration: .init(bootstrapServers: "127.0.0.1:1", properties: ["linger.ms": "soon"]))
        }
        #expect(error?.kind == .configuration)
        #expect(error?.message.contains("linger.ms") == true)
    }
}
