import CRdKafka
import Foundation
import Logging
import Synchronization

/// A Kafka consumer: group subscription or explicit assignment (for replay), records
/// as an `AsyncSequence`, and offsets committed only for records the caller says are done.
///
/// Auto-commit and automatic offset storing are off. A record's offset is stored by
/// ``markDone(_:)`` and committed by ``commit()``, or committed directly by
/// ``commit(_:)``. When a partition is revoked, buffered records of it are dropped,
/// the rebalance handler runs (the caller's chance to finish and mark work done), then
/// stored offsets are committed; records delivered before the partition moved can no
/// longer be committed by this consumer (their new owner reads them again).
public final class KafkaConsumer: Sendable {
    /// Consumer settings.
    public struct Configuration: Sendable {
        /// Comma-separated `host:port` list of bootstrap brokers.
        public var bootstrapServers: String
        /// Consumer group; required for `subscribe` and for commits that others resume from.
        public var groupID: String?
        /// Client id reported to brokers.
        public var clientID: String
        /// Where to start when the group has no committed offset: `earliest` or `latest`.
        public var autoOffsetReset: String
        /// Records buffered ahead of the caller; polling pauses while the buffer is full.
        public var bufferCapacity: Int
        /// Extra librdkafka properties, applied over Accord's defaults.
        public var properties: [String: String]

        /// Creates a configuration with Accord's defaults.
        public init(bootstrapServers: String, groupID: String? = nil, clientID: String = "accord-consumer",
                    autoOffsetReset: String = "earliest", bufferCapacity: Int = 10_000,
                    properties: [String: String] = [:]) {
            self.bootstrapServers = bootstrapServers
            self.groupID = groupID
            self.clientID = clientID
            self.autoOffsetReset = autoOffsetReset
            self.bufferCapacity = bufferCapacity
            self.properties = properties
        }

        var kafkaConfig: KafkaConfig {
            var base: [String: String] = [
                "bootstrap.servers": bootstrapServers,
                "client.id": clientID,
                "enable.auto.commit": "false",
                "enable.auto.offset.store": "false",
                "auto.offset.reset": autoOffsetReset,
                "enable.partition.eof": "true",
            ]
            // librdkafka needs a group id even for plain assignment; an unnamed consumer
            // gets a private one so it never joins or commits into anyone else's group.
            base["group.id"] = groupID ?? "accord-unnamed-\(UUID().uuidString)"
            return KafkaConfig(base).merging(properties)
        }
    }

    /// A change of this consumer's partitions within its group.
    public enum RebalanceEvent: Sendable, Equatable {
        /// These partitions are now this consumer's.
        case assigned([TopicPartition])
        /// These partitions are about to move away; finish and mark done what you can.
        case revoked([TopicPartition])
    }

    /// Called on every rebalance, before partitions are assigned or after records of
    /// revoked partitions stop being delivered; the rebalance waits for it to return.
    public typealias RebalanceHandler = @Sendable (RebalanceEvent) async -> Void

    /// Chooses where newly assigned partitions start reading (for example from offsets
    /// kept in the caller's own store); partitions it leaves out start at the group's
    /// committed offset.
    public typealias StartOffsetProvider = @Sendable ([TopicPartition]) async -> [TopicPartition: StartOffset]

    private let handle: ClientHandle
    private let context: ConsumerContext
    private let pollThread: PollThread

    /// Creates a consumer and starts its poll thread.
    public init(configuration: Configuration, rebalanceHandler: RebalanceHandler? = nil,
                startOffsets: StartOffsetProvider? = nil,
                logger: Logger = Logger(label: "accord.kafka.consumer")) throws {
        let context = ConsumerContext(logger: logger, capacity: configuration.bufferCapacity, handler: rebalanceHandler,
                                      startOffsets: startOffsets)
        let handle = try ClientHandle(type: RD_KAFKA_CONSUMER, config: configuration.kafkaConfig, context: context) { conf in
            rd_kafka_conf_set_rebalance_cb(conf) { handle, error, partitions, opaque in
                guard let handle, let opaque else { return }
                let context = Unmanaged<ClientContext>.fromOpaque(opaque).takeUnretainedValue()
                (context as? ConsumerContext)?.rebalance(handle: handle, error: error, partitions: partitions)
            }
        }
        rd_kafka_poll_set_consumer(handle.pointer)
        self.handle = handle
        self.context = context
        let pointer = UncheckedPointer(handle.pointer)
        self.pollThread = PollThread(name: "accord-consumer-poll") {
            context.pollOnce(pointer.value)
        }
    }

    /// Joins the consumer group and subscribes to `topics`; partitions arrive through rebalances.
    public func subscribe(_ topics: [String]) throws {
        guard let list = rd_kafka_topic_partition_list_new(Int32(topics.count)) else {
            throw KafkaError(kind: .subscription, message: "out of memory")
        }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in topics {
            rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA)
        }
        let error = rd_kafka_subscribe(handle.pointer, list)
        if error.isError {
            throw KafkaError(kind: .subscription, error: error, context: "subscribe to \(topics.joined(separator: ","))")
        }
    }

    /// Assigns exactly these partitions, each starting at its offset (no group rebalancing).
    ///
    /// With `stopAtEnd`, the record sequence finishes once every partition has been
    /// read up to the high watermark it had when this call was made — "catch up, then stop".
    public func assign(_ partitions: [TopicPartition: StartOffset], stopAtEnd: Bool = false,
                       timeout: Duration = .seconds(10)) async throws {
        let pointer = UncheckedPointer(handle.pointer)
        if stopAtEnd {
            var targets: [TopicPartition: Int64] = [:]
            var done: Set<TopicPartition> = []
            for (topicPartition, start) in partitions {
                let (low, high) = try await Self.watermarks(pointer, topicPartition, timeout: timeout)
                targets[topicPartition] = high
                switch start {
                case .beginning: if low >= high { done.insert(topicPartition) }
                case .end: done.insert(topicPartition)
                case .offset(let offset): if offset >= high || low >= high { done.insert(topicPartition) }
                case .committed: if low >= high { done.insert(topicPartition) }
                }
            }
            context.startReplay(targets: targets, alreadyDone: done)
        }
        context.assignLocally(Array(partitions.keys), startingAt: partitions)
        guard let list = rd_kafka_topic_partition_list_new(Int32(partitions.count)) else {
            throw KafkaError(kind: .subscription, message: "out of memory")
        }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for (topicPartition, start) in partitions.sorted(by: { $0.key < $1.key }) {
            let element = rd_kafka_topic_partition_list_add(list, topicPartition.topic, topicPartition.partition)
            element?.pointee.offset = start.nativeOffset
        }
        let error = rd_kafka_assign(handle.pointer, list)
        if error.isError {
            throw KafkaError(kind: .subscription, error: error, context: "assign")
        }
    }

    /// The records this consumer receives, in partition order.
    ///
    /// Iterate from one task at a time. The sequence ends after ``close()``, or
    /// when a replay started with `assign(_:stopAtEnd:)` has caught up.
    public var records: Records { Records(context: context) }

    /// Waits for at least one record, then returns it with up to `maxRecords - 1` more that
    /// are already buffered, without waiting for them; empty once the sequence has ended.
    /// Use either this or ``records``, from one task at a time.
    public func nextBatch(maxRecords: Int) async throws -> [ConsumerRecord] {
        let batch = try await context.buffer.nextBatch(max: max(1, maxRecords))
        for record in batch { context.noteDelivered(record) }
        return batch
    }

    /// The partitions currently assigned to this consumer.
    public var assignment: [TopicPartition] { context.currentAssignment().sorted() }

    /// Marks `record` as finished: its offset (+1) is stored, to be committed by ``commit()``.
    /// Throws `.partitionNotAssigned` if the partition moved since the record was delivered.
    public func markDone(_ record: ConsumerRecord) throws {
        try context.withCurrentAssignment(of: [record]) {
            try storeOffsets(["\(record.topic)": [(record.partition, record.offset + 1)]])
        }
    }

    private func storeOffsets(_ offsets: [String: [(Int32, Int64)]]) throws {
        let count = offsets.values.reduce(0) { $0 + $1.count }
        guard let list = rd_kafka_topic_partition_list_new(Int32(count)) else {
            throw KafkaError(kind: .commit, message: "out of memory")
        }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for (topic, entries) in offsets {
            for (partition, offset) in entries {
                rd_kafka_topic_partition_list_add(list, topic, partition)?.pointee.offset = offset
            }
        }
        let error = rd_kafka_offsets_store(handle.pointer, list)
        if error.isError {
            throw KafkaError(kind: .commit, error: error, context: "store offsets")
        }
    }

    /// Synchronously commits every offset stored by ``markDone(_:)``.
    public func commit() async throws {
        let pointer = UncheckedPointer(handle.pointer)
        let context = self.context
        try await Blocking.run {
            try context.commitGate.withLock { _ in
                let error = rd_kafka_commit(pointer.value, nil, 0)
                if error.isError && error != RD_KAFKA_RESP_ERR__NO_OFFSET {
                    throw KafkaError(kind: .commit, error: error, context: "commit stored offsets")
                }
            }
        }
    }

    /// Commits, per partition, the offset after the last of `records`: synchronously, or with
    /// `waitForBroker: false` only sent (the broker's answer is not awaited, and a failure is
    /// not reported; for consumers whose own store holds the authoritative offsets).
    ///
    /// Succeeds only if every record's partition is still assigned under the
    /// assignment it was delivered in; otherwise nothing is committed and
    /// `.partitionNotAssigned` is thrown (the partition's new owner will read them again).
    public func commit(_ records: [ConsumerRecord], waitForBroker: Bool = true) async throws {
        guard !records.isEmpty else { return }
        var next: [TopicPartition: Int64] = [:]
        for record in records {
            next[record.topicPartition] = max(next[record.topicPartition] ?? 0, record.offset + 1)
        }
        let offsets = next
        let pointer = UncheckedPointer(handle.pointer)
        let context = self.context
        try await Blocking.run {
            try context.withCurrentAssignment(of: records) {
                guard let list = rd_kafka_topic_partition_list_new(Int32(offsets.count)) else {
                    throw KafkaError(kind: .commit, message: "out of memory")
                }
                defer { rd_kafka_topic_partition_list_destroy(list) }
                for (topicPartition, offset) in offsets {
                    rd_kafka_topic_partition_list_add(list, topicPartition.topic, topicPartition.partition)?.pointee.offset = offset
                }
                let error = rd_kafka_commit(pointer.value, list, waitForBroker ? 0 : 1)
                if error.isError {
                    throw KafkaError(kind: .commit, error: error, context: "commit")
                }
            }
        }
    }

    /// How far behind the end of each assigned partition this consumer is: the high
    /// watermark against the offset after the last record handed to the caller (or,
    /// before any, the start offset or the group's committed offset).
    ///
    /// High watermarks come from the consumer's latest fetch responses where it has them
    /// (no round trip); only partitions not fetched yet are asked for, all at once.
    public func lag(timeout: Duration = .seconds(5)) async throws -> [PartitionLag] {
        let pointer = UncheckedPointer(handle.pointer)
        let partitions = assignment
        let marks = try await withThrowingTaskGroup(of: (TopicPartition, Int64, Int64).self) { group in
            for topicPartition in partitions {
                group.addTask {
                    var low: Int64 = -1
                    var high: Int64 = -1
                    let cached = rd_kafka_get_watermark_offsets(pointer.value, topicPartition.topic, topicPartition.partition,
                                                                &low, &high)
                    if !cached.isError && high >= 0 && low >= 0 {
                        return (topicPartition, low, high)
                    }
                    let queried = try await Self.watermarks(pointer, topicPartition, timeout: timeout)
                    return (topicPartition, queried.low, queried.high)
                }
            }
            var result: [TopicPartition: (low: Int64, high: Int64)] = [:]
            for try await (topicPartition, low, high) in group { result[topicPartition] = (low, high) }
            return result
        }
        var result: [PartitionLag] = []
        for topicPartition in partitions {
            guard let (low, high) = marks[topicPartition] else { continue }
            let position: Int64
            switch context.startingPoint(of: topicPartition) {
            case .delivered(let next), .start(.offset(let next)):
                position = next
            case .start(.beginning):
                position = low
            case .start(.end):
                position = high
            case .start(.committed), .none:
                position = try await Blocking.run { () throws -> Int64 in
                    guard let list = rd_kafka_topic_partition_list_new(1) else {
                        throw KafkaError(kind: .query, message: "out of memory")
                    }
                    defer { rd_kafka_topic_partition_list_destroy(list) }
                    let element = rd_kafka_topic_partition_list_add(list, topicPartition.topic, topicPartition.partition)
                    _ = rd_kafka_committed(pointer.value, list, Int32(clamping: timeout.milliseconds))
                    let committed = element?.pointee.offset ?? -1
                    return committed < 0 ? low : committed
                }
            }
            result.append(PartitionLag(topicPartition: topicPartition, highWatermark: high, position: max(low, position)))
        }
        return result
    }

    static func watermarks(_ pointer: UncheckedPointer, _ topicPartition: TopicPartition,
                           timeout: Duration) async throws -> (low: Int64, high: Int64) {
        try await Blocking.run {
            var low: Int64 = 0
            var high: Int64 = 0
            let error = rd_kafka_query_watermark_offsets(pointer.value, topicPartition.topic, topicPartition.partition,
                                                         &low, &high, Int32(clamping: timeout.milliseconds))
            if error.isError {
                throw KafkaError(kind: .query, error: error, context: "watermarks of \(topicPartition)")
            }
            return (low, high)
        }
    }

    /// Leaves the group (running the revoke handler and committing stored offsets),
    /// ends the record sequence and destroys the client.
    public func close() async {
        guard context.markClosed() else { return }
        await pollThread.stopAndJoin()
        let handle = self.handle
        let context = self.context
        await Blocking.run {
            _ = rd_kafka_consumer_close(handle.pointer)
            context.buffer.finish()
            handle.destroy()
        }
    }

    deinit {
        pollThread.stopAndJoinSync()
        if context.markClosed() {
            _ = rd_kafka_consumer_close(handle.pointer)
        }
        context.buffer.finish()
        handle.destroy()
    }
}

extension KafkaConsumer {
    /// The records of a ``KafkaConsumer`` as an `AsyncSequence`.
    public struct Records: AsyncSequence, Sendable {
        /// Each element is one consumed record.
        public typealias Element = ConsumerRecord
        let context: ConsumerContext

        /// Creates the iterator.
        public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(context: context) }

        /// Iterates consumed records.
        public struct AsyncIterator: AsyncIteratorProtocol {
            let context: ConsumerContext

            /// The next record, or nil when the sequence has ended.
            public mutating func next() async throws -> ConsumerRecord? {
                let record = try await context.buffer.next()
                if let record { context.noteDelivered(record) }
                return record
            }
        }
    }
}

extension StartOffset {
    var nativeOffset: Int64 {
        switch self {
        case .beginning: Int64(RD_KAFKA_OFFSET_BEGINNING)
        case .end: Int64(RD_KAFKA_OFFSET_END)
        case .committed: Int64(RD_KAFKA_OFFSET_STORED)
        case .offset(let offset): offset
        }
    }
}
