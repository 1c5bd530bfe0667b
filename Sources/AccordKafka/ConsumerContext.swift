import CRdKafka
import Dispatch
import Logging
import Synchronization

/// Consumer state shared by the poll thread, librdkafka's rebalance callback and callers.
final class ConsumerContext: ClientContext, @unchecked Sendable {
    // @unchecked: all mutable state is inside `Mutex`es; `buffer` is thread-safe.
    private struct Assignment {
        var generation: UInt64 = 0
        var partitions: [TopicPartition: UInt64] = [:]
        var starts: [TopicPartition: StartOffset] = [:]
        var delivered: [TopicPartition: Int64] = [:]
    }

    /// Where a partition's reading stands, for lag.
    enum StartingPoint {
        /// Offset after the last record handed to the caller.
        case delivered(Int64)
        /// Nothing handed out yet; reading starts here.
        case start(StartOffset)
    }

    private struct Replay {
        var targets: [TopicPartition: Int64] = [:]
        var remaining: Set<TopicPartition> = []
    }

    let buffer: RecordBuffer
    /// Held while committing, and while revoking, so a commit never races a partition moving away.
    let commitGate = Mutex(())
    private let handler: KafkaConsumer.RebalanceHandler?
    private let startOffsets: KafkaConsumer.StartOffsetProvider?
    private let assignment = Mutex(Assignment())
    private let replay = Mutex<Replay?>(nil)
    private let closed = Atomic<Bool>(false)

    init(logger: Logger, capacity: Int, handler: KafkaConsumer.RebalanceHandler?,
         startOffsets: KafkaConsumer.StartOffsetProvider? = nil) {
        self.buffer = RecordBuffer(capacity: capacity)
        self.handler = handler
        self.startOffsets = startOffsets
        super.init(logger: logger)
    }

    /// Marks the consumer closed; returns false if it already was.
    func markClosed() -> Bool {
        !closed.exchange(true, ordering: .acquiringAndReleasing)
    }

    // MARK: Assignment bookkeeping

    func currentAssignment() -> [TopicPartition] {
        assignment.withLock { Array($0.partitions.keys) }
    }

    /// Records `partitions` as assigned under a new generation.
    func assignLocally(_ partitions: [TopicPartition], startingAt starts: [TopicPartition: StartOffset] = [:]) {
        assignment.withLock { state in
            state.generation += 1
            for partition in partitions {
                state.partitions[partition] = state.generation
                state.starts[partition] = starts[partition] ?? .committed
                state.delivered[partition] = nil
            }
        }
    }

    private func revokeLocally(_ partitions: [TopicPartition]) {
        commitGate.withLock { _ in
            assignment.withLock { state in
                for partition in partitions {
                    state.partitions[partition] = nil
                    state.starts[partition] = nil
                    state.delivered[partition] = nil
                }
            }
        }
    }

    /// Notes that `record` was handed to the caller.
    func noteDelivered(_ record: ConsumerRecord) {
        assignment.withLock { state in
            if state.partitions[record.topicPartition] == record.generation {
                state.delivered[record.topicPartition] = record.offset + 1
            }
        }
    }

    /// Where reading of `partition` stands.
    func startingPoint(of partition: TopicPartition) -> StartingPoint? {
        assignment.withLock { state in
            if let next = state.delivered[partition] { return .delivered(next) }
            return state.starts[partition].map { .start($0) }
        }
    }

    private func generation(of partition: TopicPartition) -> UInt64? {
        assignment.withLock { $0.partitions[partition] }
    }

    /// Runs `body` (a commit) only if every record's partition is still assigned under
    /// the generation it was delivered in; holds `commitGate` throughout.
    func withCurrentAssignment<T>(of records: [ConsumerRecord], _ body: () throws -> T) throws -> T {
        try commitGate.withLock { _ in
            let current = assignment.withLock { $0.partitions }
            for record in records where current[record.topicPartition] != record.generation {
                throw KafkaError(kind: .partitionNotAssigned,
                                 message: "\(record.topicPartition) is no longer assigned to this consumer (offset \(record.offset))")
            }
            return try body()
        }
    }

    // MARK: Replay ("catch up, then stop")

    func startReplay(targets: [TopicPartition: Int64], alreadyDone: Set<TopicPartition>) {
        let remaining = Set(targets.keys).subtracting(alreadyDone)
        replay.withLock { $0 = Replay(targets: targets, remaining: remaining) }
        if remaining.isEmpty { buffer.finish() }
    }

    private func noteProgress(_ partition: TopicPartition, nextOffset: Int64) {
        let finished = replay.withLock { state -> Bool in
            guard var current = state, let target = current.targets[partition] else { return false }
            if nextOffset >= target { current.remaining.remove(partition) }
            state = current
            return current.remaining.isEmpty
        }
        if finished { buffer.finish() }
    }

    // MARK: Poll thread

    /// One poll of the consumer queue: hands a record to the buffer or handles an event.
    func pollOnce(_ handle: OpaquePointer) {
        if buffer.isFinished {
            // Replay complete or consumer closing: keep serving callbacks, deliver nothing.
            if let message = rd_kafka_consumer_poll(handle, 100) { rd_kafka_message_destroy(message) }
            return
        }
        guard let message = rd_kafka_consumer_poll(handle, 100) else { return }
        defer { rd_kafka_message_destroy(message) }
        let error = message.pointee.err
        let topic = message.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
        let topicPartition = TopicPartition(topic: topic, partition: message.pointee.partition)
        if error == RD_KAFKA_RESP_ERR__PARTITION_EOF {
            noteProgress(topicPartition, nextOffset: message.pointee.offset)
            return
        }
        if error.isError {
            let kafkaError = KafkaError(kind: .consume, error: error, context: topic.isEmpty ? nil : "\(topicPartition)")
            if rd_kafka_fatal_error(handle, nil, 0).isError {
                logger.error("fatal consumer error", metadata: ["error": "\(kafkaError)"])
                buffer.finish(error: kafkaError)
            } else {
                logger.debug("consumer error", metadata: ["error": "\(kafkaError)"])
            }
            return
        }
        guard let generation = generation(of: topicPartition) else { return }
        let record = makeRecord(message, topic: topic, generation: generation)
        buffer.push(record) { !closed.load(ordering: .acquiring) }
        noteProgress(topicPartition, nextOffset: record.offset + 1)
    }

    private func makeRecord(_ message: UnsafeMutablePointer<rd_kafka_message_t>, topic: String,
                            generation: UInt64) -> ConsumerRecord {
        let m = message.pointee
        let value = m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) } ?? []
        let key = m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) }
        var headers: [KafkaHeader] = []
        var native: OpaquePointer?
        if rd_kafka_message_headers(message, &native) == RD_KAFKA_RESP_ERR_NO_ERROR, let native {
            var index = 0
            var name: UnsafePointer<CChar>?
            var valuePointer: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(native, index, &name, &valuePointer, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                let headerValue = valuePointer.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
                headers.append(KafkaHeader(key: name.map { String(cString: $0) } ?? "", value: headerValue))
                index += 1
            }
        }
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(message, &timestampType)
        return ConsumerRecord(topic: topic, partition: m.partition, offset: m.offset, key: key, value: value,
                              headers: headers,
                              timestampMilliseconds: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp,
                              generation: generation)
    }

    // MARK: Rebalance (runs on the poll thread, inside librdkafka's poll)

    func rebalance(handle: OpaquePointer, error: rd_kafka_resp_err_t,
                   partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) {
        let list = Self.topicPartitions(partitions)
        let cooperative = String(cString: rd_kafka_rebalance_protocol(handle)) == "COOPERATIVE"
        switch error {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            logger.info("partitions assigned", metadata: ["partitions": "\(list.map(\.description))"])
            runHandler(.assigned(list))
            let starts = chooseStartOffsets(list, in: partitions)
            assignLocally(list, startingAt: starts)
            if cooperative {
                if let failure = rd_kafka_incremental_assign(handle, partitions) { rd_kafka_error_destroy(failure) }
            } else {
                _ = rd_kafka_assign(handle, partitions)
            }
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            logger.info("partitions revoked", metadata: ["partitions": "\(list.map(\.description))"])
            buffer.removeRecords(of: Set(list))
            runHandler(.revoked(list))
            revokeLocally(list)
            let commitError = rd_kafka_commit(handle, nil, 0)
            if commitError.isError && commitError != RD_KAFKA_RESP_ERR__NO_OFFSET {
                logger.warning("commit on revoke failed", metadata: ["error": "\(KafkaError(kind: .commit, error: commitError))"])
            }
            if cooperative {
                if let failure = rd_kafka_incremental_unassign(handle, partitions) { rd_kafka_error_destroy(failure) }
            } else {
                _ = rd_kafka_assign(handle, nil)
            }
        default:
            logger.warning("rebalance error", metadata: ["error": "\(KafkaError(kind: .subscription, error: error))"])
            revokeLocally(currentAssignment())
            _ = rd_kafka_assign(handle, nil)
        }
    }

    /// Asks the start-offset provider where `list` should start and writes it into `native`.
    private func chooseStartOffsets(_ list: [TopicPartition],
                                    in native: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) -> [TopicPartition: StartOffset] {
        guard let startOffsets, let native else { return [:] }
        let done = DispatchSemaphore(value: 0)
        let chosen = Mutex<[TopicPartition: StartOffset]>([:])
        Task {
            let result = await startOffsets(list)
            chosen.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        let starts = chosen.withLock { $0 }
        for index in 0..<Int(native.pointee.cnt) {
            let element = native.pointee.elems[index]
            guard let topic = element.topic else { continue }
            if let start = starts[TopicPartition(topic: String(cString: topic), partition: element.partition)] {
                native.pointee.elems[index].offset = start.nativeOffset
            }
        }
        return starts
    }

    private func runHandler(_ event: KafkaConsumer.RebalanceEvent) {
        guard let handler else { return }
        let done = DispatchSemaphore(value: 0)
        Task {
            await handler(event)
            done.signal()
        }
        done.wait()
    }

    static func topicPartitions(_ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) -> [TopicPartition] {
        guard let list else { return [] }
        let count = Int(list.pointee.cnt)
        return (0..<count).compactMap { index in
            let element = list.pointee.elems[index]
            guard let topic = element.topic else { return nil }
            return TopicPartition(topic: String(cString: topic), partition: element.partition)
        }
    }
}
