import AccordKafka
import Logging

/// An embedded broker (librdkafka's mock cluster, in this process) with the workload's topics
/// created through the mock API, and the checked way to fill it.
public final class BenchBroker: Sendable {
    /// The cluster.
    public let cluster: EmbeddedKafkaCluster
    /// The topics created, with their partition counts.
    public let topics: [Workload.Topic]

    /// Bootstrap servers for the executables.
    public var bootstrap: String { cluster.bootstrapServers }

    /// Starts a one-broker cluster and creates `topics`.
    public init(topics: [Workload.Topic]) throws {
        var logger = Logger(label: "accord.bench.broker")
        logger.logLevel = .error
        cluster = try EmbeddedKafkaCluster(brokers: 1, logger: logger)
        self.topics = topics
        for topic in topics {
            try cluster.createTopic(TopicSpec(name: topic.name, partitions: topic.partitions))
        }
    }

    /// Stops the cluster.
    public func shutdown() { cluster.shutdown() }

    /// What filling the topics took, measured with the raw librdkafka loops.
    public struct Fill: Sendable {
        /// The raw produce run.
        public let produce: RawKafka.ProduceResult
        /// The raw consume run that read every record back.
        public let consume: RawKafka.ConsumeResult
    }

    /// Produces every record of `workload` with the raw librdkafka producer, reads all of them back
    /// with the raw consumer, and fails unless every partition holds exactly what was produced
    /// (the mock broker silently drops the oldest batches of a partition beyond about 5 MB).
    public func fill(with workload: Workload, progress: BenchProgress) async throws -> Fill {
        progress.say("producing \(workload.recordCount) records to \(topics.count) topics (\(topics.map { "\($0.partitions)" }.joined(separator: "/")) partitions)")
        let bootstrap = self.bootstrap
        let produce = try await Threads.run(name: "accord-bench-produce") { try RawKafka.produce(workload, bootstrap: bootstrap) }
        guard produce.delivered == workload.recordCount else {
            throw BenchError("raw produce: \(produce.delivered) of \(workload.recordCount) records acknowledged")
        }
        progress.say("consuming them back")
        let topics = self.topics
        let consume = try await Threads.run(name: "accord-bench-consume") {
            try RawKafka.consume(bootstrap: bootstrap, topics: topics, expected: workload.recordCount)
        }
        try Self.check(consume, against: workload)
        return Fill(produce: produce, consume: consume)
    }

    /// Fails unless `consumed` holds exactly the workload's records on every partition.
    static func check(_ consumed: RawKafka.ConsumeResult, against workload: Workload) throws {
        let expected = workload.expectedCounts()
        var wrong: [String] = []
        for (topic, partitions) in expected {
            for (partition, count) in partitions where consumed.perPartition[topic]?[partition] ?? 0 != count {
                wrong.append("\(topic)[\(partition)]: produced \(count), consumed \(consumed.perPartition[topic]?[partition] ?? 0)")
            }
        }
        guard consumed.records == workload.recordCount, wrong.isEmpty else {
            throw BenchError("""
                records lost or doubled: produced \(workload.recordCount), consumed \(consumed.records)\
                \(wrong.isEmpty ? "" : "; " + wrong.sorted().prefix(10).joined(separator: "; "))
                (the embedded broker keeps about 5 MB per partition; more partitions are needed)
                """)
        }
    }
}
