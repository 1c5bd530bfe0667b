import AccordKafka
import Foundation
import Testing

@Suite("Consumer against the embedded broker over TCP", .tags(.broker))
struct ConsumerTests {
    static func produce(_ count: Int, topic: String, to cluster: EmbeddedKafkaCluster) async throws {
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<count {
                group.addTask {
                    _ = try await producer.send(ProducerRecord(
                        topic: topic, key: "key-\(index % 10)", value: Array("value-\(index)".utf8),
                        headers: [KafkaHeader(key: "index", string: "\(index)"), KafkaHeader(key: "empty", value: nil)]))
                }
            }
            try await group.waitForAll()
        }
        #expect(await producer.shutdown().undelivered == 0)
    }

    @Test("replay: assign from the beginning, catch up to the end, then stop")
    func replayStopsAtEnd() async throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        defer { cluster.shutdown() }
        try cluster.createTopic(TopicSpec(name: "r", partitions: 3))
        try await Self.produce(300, topic: "r", to: cluster)
        let consumer = try KafkaConsumer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
        try await consumer.assign([
            TopicPartition(topic: "r", partition: 0): .beginning,
            TopicPartition(topic: "r", partition: 1): .beginning,
            TopicPartition(topic: "r", partition: 2): .beginning,
        ], stopAtEnd: true)
        var seen: [Int] = []
        var lastOffset: [Int32: Int64] = [:]
        for try await record in consumer.records {
            let index = try #require(record.header("index")?.stringValue.flatMap(Int.init))
            #expect(record.value == Array("value-\(index)".utf8))
            #expect(record.keyString == "key-\(index % 10)")
            #expect(record.header("empty").map { $0.value == nil } == true)
            #expect(record.timestampMilliseconds != nil)
            #expect(record.offset > lastOffset[record.partition, default: -1])
            lastOffset[record.partition] = record.offset
            seen.append(index)
        }
        #expect(seen.sorted() == Array(0..<300))
        await consumer.close()
    }

    @Test("replay from an explicit offset reads only the rest")
    func replayFromOffset() async throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        defer { cluster.shutdown() }
        try cluster.createTopic(TopicSpec(name: "r", partitions: 1))
        try await Self.produce(50, topic: "r", to: cluster)
        let consumer = try KafkaConsumer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
        try await consumer.assign([TopicPartition(topic: "r", partition: 0): .offset(40)], stopAtEnd: true)
        var offsets: [Int64] = []
        for try await record in consumer.records { offsets.append(record.offset) }
        #expect(offsets == Array(40..<50))
        await consumer.close()
    }

    @Test("replay of an empty partition ends at once")
    func replayEmpty() async throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        defer { cluster.shutdown() }
        try cluster.createTopic(TopicSpec(name: "empty", partitions: 2))
        let consumer = try KafkaConsumer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
        try await consumer.assign([TopicPartition(topic: "empty", partition: 0): .beginning,
                                   TopicPartition(topic: "empty", partition: 1): .beginning], stopAtEnd: true)
        var count = 0
        for try await _ in consumer.records { count += 1 }
        #expect(count == 0)
        await consumer.close()
    }

    @Test("only records marked done are committed; a new member resumes after them")
    func commitsOnlyFinishedRecords() async throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        defer { cluster.shutdown() }
        try cluster.createTopic(TopicSpec(name: "c", partitions: 1))
        try await Self.produce(20, topic: "c", to: cluster)
        let config = KafkaConsumer.Configuration(bootstrapServers: cluster.bootstrapServers, groupID: "g",
                                                properties: EmbeddedKafkaCluster.consumerGroupProperties)

        let first = try KafkaConsumer(configuration: config)
        try first.subscribe(["c"])
        var taken = 0
        for try await record in first.records {
            taken += 1
            if record.offset < 12 { try first.markDone(record) }
            if taken == 15 { break }
        }
        try await first.commit()
        let lag = try await first.lag()
        #expect(lag.count == 1)
        #expect(lag.first?.highWatermark == 20)
        await first.close()

        let second = try KafkaConsumer(configuration: config)
        try second.subscribe(["c"])
        var resumed: [Int64] = []
        for try await record in second.records {
            resumed.append(record.offset)
            try await second.commit([record])
            if record.offset == 19 { break }
        }
        #expect(resumed == Array(12..<20))
        await second.close()
    }

    @Test("lag reports how far each assigned partition is behind")
    func lagReading() async throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        defer { cluster.shutdown() }
        try cluster.createTopic(TopicSpec(name: "l", partitions: 1))
        try await Self.produce(10, topic: "l", to: cluster)
        let consumer = try KafkaConsumer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
        try await consumer.assign([TopicPartition(topic: "l", partition: 0): .offset(4)])
        let lag = try await consumer.lag()
        #expect(lag == [PartitionLag(topicPartition: TopicPartition(topic: "l", partition: 0), highWatermark: 10, position: 4)])
        #expect(lag.first?.lag == 6)
        var taken = 0
        for try await _ in consumer.records {
            taken += 1
            if taken == 3 { break }
        }
        #expect(try await consumer.lag().first?.lag == 3)
        await consumer.close()
    }
}
