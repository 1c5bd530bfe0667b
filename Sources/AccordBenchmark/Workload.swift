import AccordEvents
import AccordIntegrity
import AccordSimulation
import Foundation

/// The benchmark's workload: simulated agency events sealed into hash chains per
/// (source, topic, partition) with an Ed25519-signed checkpoint every `checkpointEvery` events of a
/// chain and a final one for every chain — the records an agency service would have produced.
public struct Workload: Sendable {
    /// A topic the workload writes to (or that must exist), with its partition count.
    public struct Topic: Sendable, Hashable {
        /// The Kafka topic name.
        public let name: String
        /// Its partition count.
        public let partitions: Int32
    }

    /// Every Accord topic with the partition count chosen for this workload (the dead-letter topic included).
    public let topics: [Topic]
    /// Every record in produce order (per partition, the chain order).
    public let records: [WorkloadRecord]
    /// Number of event records.
    public let events: Int
    /// Number of checkpoint records.
    public let checkpoints: Int
    /// Key + header + value bytes of every record.
    public let rawBytes: Int
    /// The ids of the cases opened in the workload, in the order they were opened.
    public let caseIds: [String]
    /// The areas of the simulated world.
    public let areas: [String]
    /// The source URNs that published events.
    public let sources: [String]

    /// Number of records (events and checkpoints).
    public var recordCount: Int { records.count }

    /// Records expected on each partition, by topic name and partition.
    public func expectedCounts() -> [String: [Int32: Int]] {
        var counts: [String: [Int32: Int]] = [:]
        for record in records { counts[topics[record.topicIndex].name, default: [:]][record.partition, default: 0] += 1 }
        return counts
    }

    /// Largest bytes kept per partition by the embedded broker that the workload plans for (it keeps about 5 MB).
    public static let partitionBudgetBytes = 3_000_000

    /// Seals `plan`'s submissions with `keys`, choosing at least `minimumPartitions` partitions per
    /// agency topic, and more when a partition would hold more than ``partitionBudgetBytes``.
    public static func seal(_ plan: WorkloadPlan, keys: BenchKeys, minimumPartitions: Int32,
                            checkpointEvery: Int, progress: BenchProgress) throws -> Workload {
        let agencyTopics = AccordTopic.all.filter { $0.owner != nil }.map(\.name)
        var partitions: [String: Int32] = [:]
        for name in agencyTopics { partitions[name] = minimumPartitions }
        for attempt in 1...5 {
            let workload = try sealOnce(plan, keys: keys, partitions: partitions, checkpointEvery: checkpointEvery)
            var bytes: [String: [Int32: Int]] = [:]
            for record in workload.records {
                // About 70 bytes of record framing per record in the broker's log.
                bytes[workload.topics[record.topicIndex].name, default: [:]][record.partition, default: 0] += record.rawBytes + 70
            }
            var grew = false
            for (topic, perPartition) in bytes {
                let largest = perPartition.values.max() ?? 0
                if largest > partitionBudgetBytes, let current = partitions[topic] {
                    let factor = Int32((Double(largest) / Double(partitionBudgetBytes)).rounded(.up))
                    partitions[topic] = min(4_096, current * max(2, factor))
                    grew = true
                }
            }
            if !grew { return workload }
            progress.say("workload: a partition would exceed \(partitionBudgetBytes / 1_000_000) MB; resealing with more partitions (attempt \(attempt))")
        }
        throw BenchError("cannot spread the workload over partitions of at most \(partitionBudgetBytes) bytes")
    }

    private static func sealOnce(_ plan: WorkloadPlan, keys: BenchKeys, partitions: [String: Int32],
                                 checkpointEvery: Int) throws -> Workload {
        let topics = AccordTopic.all.map { Topic(name: $0.name, partitions: partitions[$0.name] ?? 8) }
        var topicIndex: [String: Int] = [:]
        for (index, topic) in topics.enumerated() { topicIndex[topic.name] = index }
        let codec = EventCodec()
        let issuedAt = Timestamp(secondsSinceEpoch: Int64(Date().timeIntervalSince1970.rounded(.down))) ?? EventSamples.defaultStart
        var sequences: [String: Int64] = [:]
        var chains: [ChainID: ChainWriter] = [:]
        var covered: [ChainID: Int64] = [:]
        var records: [WorkloadRecord] = []
        records.reserveCapacity(plan.submissions.count + plan.submissions.count / max(1, checkpointEvery) + 1_024)
        var events = 0, checkpoints = 0, rawBytes = 0
        var caseIds: [String] = []
        var sources: Set<String> = []

        func append(_ message: BinaryMessage, topic: Int, partition: Int32, checkpoint: Bool) {
            let record = WorkloadRecord(topicIndex: topic, partition: partition, isCheckpoint: checkpoint,
                                        key: message.key ?? [],
                                        headers: message.headers.map { (Array($0.name.utf8), $0.value) },
                                        value: message.value)
            rawBytes += record.rawBytes
            records.append(record)
        }

        func checkpoint(_ chain: ChainID) throws {
            guard let writer = chains[chain], let key = keys.key(for: chain.source),
                  let index = topicIndex[chain.topic] else {
                throw BenchError("no key or topic for chain \(chain)")
            }
            let signed = try writer.checkpoint(issuedAt: issuedAt, key: key)
            append(signed.record, topic: index, partition: chain.partition, checkpoint: true)
            covered[chain] = writer.count
            checkpoints += 1
        }

        for submission in plan.submissions {
            guard let source = submission.source else { throw BenchError("agency id \(submission.agencyId) makes no source") }
            let sequence = (sequences[source.urn] ?? 0) + 1
            sequences[source.urn] = sequence
            let event = AccordEvent(id: submission.id, source: source, time: submission.time, sequence: sequence,
                                    payload: submission.data,
                                    causationId: submission.causationId.map { $0.lowercasedString },
                                    correlationId: submission.correlationId)
            try event.validate()
            let topic = event.topic.name
            guard let index = topicIndex[topic], let count = partitions[topic],
                  let partition = KafkaPartitioner.murmur2(key: event.partitionKey, partitions: count) else {
                throw BenchError("event \(event.idString) is for unknown topic \(topic)")
            }
            let chain = ChainID(source: source.urn, topic: topic, partition: partition)
            var writer = chains[chain] ?? ChainWriter(chain: chain)
            let sealed = try writer.seal(event, codec: codec)
            chains[chain] = writer
            append(sealed.message, topic: index, partition: partition, checkpoint: false)
            events += 1
            sources.insert(source.urn)
            if event.kind == .caseOpened { caseIds.append(event.subject) }
            if writer.count - (covered[chain] ?? 0) >= Int64(checkpointEvery) { try checkpoint(chain) }
        }
        // The final checkpoint of every chain, as a service signs when it stops or its interval passes.
        for chain in chains.keys.sorted(by: { ($0.topic, $0.partition, $0.source) < ($1.topic, $1.partition, $1.source) })
        where (chains[chain]?.count ?? 0) > (covered[chain] ?? 0) {
            try checkpoint(chain)
        }
        let areas = Array(Set(plan.config.probationOffices.flatMap(\.areas))).sorted()
        return Workload(topics: topics, records: records, events: events, checkpoints: checkpoints, rawBytes: rawBytes,
                        caseIds: caseIds, areas: areas, sources: sources.sorted())
    }
}
