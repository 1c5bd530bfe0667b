import CRdKafka
import Foundation
import Logging
import Synchronization

/// An idempotent Kafka producer: `send` returns once the broker has acknowledged
/// the record (its delivery report), with the partition and offset it was written to.
///
/// Defaults: `enable.idempotence=true`, `acks=all`, and the `murmur2_random`
/// partitioner (the Java client's), so one key always lands on one partition and
/// partners using other clients agree on placement. When librdkafka's local queue
/// is full, `send` waits for room instead of failing.
public final class KafkaProducer: Sendable {
    /// Producer settings.
    public struct Configuration: Sendable {
        /// Comma-separated `host:port` list of bootstrap brokers.
        public var bootstrapServers: String
        /// Client id reported to brokers.
        public var clientID: String
        /// Extra librdkafka properties, applied over Accord's defaults.
        public var properties: [String: String]

        /// Creates a configuration with Accord's defaults.
        public init(bootstrapServers: String, clientID: String = "accord-producer", properties: [String: String] = [:]) {
            self.bootstrapServers = bootstrapServers
            self.clientID = clientID
            self.properties = properties
        }

        var kafkaConfig: KafkaConfig {
            KafkaConfig([
                "bootstrap.servers": bootstrapServers,
                "client.id": clientID,
                "enable.idempotence": "true",
                "acks": "all",
                "partitioner": "murmur2_random",
                "linger.ms": "5",
                "message.timeout.ms": "60000",
            ]).merging(properties)
        }
    }

    /// What `shutdown` achieved.
    public struct ShutdownReport: Sendable, Equatable {
        /// Records that were still unacknowledged at the deadline and were purged.
        public var undelivered: Int
    }

    private let handle: ClientHandle
    private let pollThread: PollThread
    private let state: ProducerContext

    /// Creates a producer and starts its delivery-report thread.
    public init(configuration: Configuration, logger: Logger = Logger(label: "accord.kafka.producer")) throws {
        let context = ProducerContext(logger: logger)
        let handle = try ClientHandle(type: RD_KAFKA_PRODUCER, config: configuration.kafkaConfig, context: context) { conf in
            rd_kafka_conf_set_dr_msg_cb(conf) { _, message, _ in
                guard let message, let opaque = message.pointee._private else { return }
                let delivery = Unmanaged<PendingDelivery>.fromOpaque(opaque).takeRetainedValue()
                let error = message.pointee.err
                if error.isError {
                    delivery.complete(.failure(KafkaError(kind: .delivery, error: error)))
                } else {
                    let topic = message.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
                    delivery.complete(.success(RecordMetadata(
                        topic: topic, partition: message.pointee.partition, offset: message.pointee.offset)))
                }
            }
        }
        self.handle = handle
        self.state = context
        let pointer = UncheckedPointer(handle.pointer)
        self.pollThread = PollThread(name: "accord-producer-poll") {
            let served = rd_kafka_poll(pointer.value, 100)
            _ = served
            context.wakeCapacityWaiters()
        }
    }

    /// Sends `record` and returns where the broker stored it once acknowledged.
    ///
    /// Waits (without failing) while the local queue is full. Throws
    /// ``KafkaError`` of kind `.delivery` when the broker did not acknowledge the
    /// record within `message.timeout.ms`, or `.produce` when it cannot be queued.
    public func send(_ record: ProducerRecord) async throws -> RecordMetadata {
        try await enqueue(record).value()
    }

    /// Sends `records` in order (so records of one key keep their order on their partition)
    /// and waits for every delivery report; one result per record, in the same order.
    ///
    /// Waits while the local queue is full. A record that cannot be queued fails on its own;
    /// the others are still sent.
    public func send(contentsOf records: [ProducerRecord]) async -> [Result<RecordMetadata, KafkaError>] {
        var pending: [Result<PendingDelivery, KafkaError>] = []
        pending.reserveCapacity(records.count)
        for record in records {
            do {
                pending.append(.success(try await enqueue(record)))
            } catch {
                pending.append(.failure(error as? KafkaError ?? KafkaError(kind: .produce, message: "\(error)")))
            }
        }
        var results: [Result<RecordMetadata, KafkaError>] = []
        results.reserveCapacity(records.count)
        for entry in pending {
            switch entry {
            case .success(let delivery):
                do {
                    results.append(.success(try await delivery.value()))
                } catch {
                    results.append(.failure(error as? KafkaError ?? KafkaError(kind: .delivery, message: "\(error)")))
                }
            case .failure(let error):
                results.append(.failure(error))
            }
        }
        return results
    }

    /// Queues `record`, waiting for room while the local queue is full.
    private func enqueue(_ record: ProducerRecord) async throws -> PendingDelivery {
        let delivery = PendingDelivery()
        while true {
            if state.isClosed {
                throw KafkaError(kind: .closed, message: "producer is shut down")
            }
            let opaque = Unmanaged.passRetained(delivery).toOpaque()
            let result = enqueue(record, opaque: opaque)
            if result == RD_KAFKA_RESP_ERR_NO_ERROR {
                return delivery
            }
            Unmanaged<PendingDelivery>.fromOpaque(opaque).release()
            if result == RD_KAFKA_RESP_ERR__QUEUE_FULL {
                await state.waitForCapacity()
                continue
            }
            throw KafkaError(kind: .produce, error: result, context: "topic \(record.topic)")
        }
    }

    private func enqueue(_ record: ProducerRecord, opaque: UnsafeMutableRawPointer) -> rd_kafka_resp_err_t {
        var headers: OpaquePointer?
        if !record.headers.isEmpty {
            headers = rd_kafka_headers_new(record.headers.count)
            for header in record.headers {
                if let value = header.value {
                    _ = value.withUnsafeBytes { rd_kafka_header_add(headers, header.key, -1, $0.baseAddress, $0.count) }
                } else {
                    _ = rd_kafka_header_add(headers, header.key, -1, nil, 0)
                }
            }
        }
        let partition = record.partition ?? RD_KAFKA_PARTITION_UA
        let result = record.value.withUnsafeBytes { value in
            withOptionalBytes(record.key) { key in
                accord_produce(handle.pointer, record.topic, partition,
                               key?.baseAddress, key?.count ?? 0,
                               value.baseAddress, value.count, headers,
                               max(0, record.timestampMilliseconds ?? 0), opaque)
            }
        }
        if result.isError, let headers {
            rd_kafka_headers_destroy(headers)
        }
        return result
    }

    /// Records queued or in flight that the broker has not yet acknowledged.
    public var inFlight: Int { Int(rd_kafka_outq_len(handle.pointer)) }

    /// Waits until every queued record is acknowledged or `timeout` passes; returns how many are still outstanding.
    @discardableResult
    public func flush(timeout: Duration) async -> Int {
        let milliseconds = Int32(clamping: timeout.milliseconds)
        let pointer = UncheckedPointer(handle.pointer)
        return await Blocking.run {
            _ = rd_kafka_flush(pointer.value, milliseconds)
            return Int(rd_kafka_outq_len(pointer.value))
        }
    }

    /// Stops accepting records, waits up to `timeout` for in-flight records, purges
    /// what is left (their `send` calls fail), and destroys the client.
    public func shutdown(timeout: Duration = .seconds(10)) async -> ShutdownReport {
        guard state.close() else { return ShutdownReport(undelivered: 0) }
        let undelivered = await flush(timeout: timeout)
        let pointer = UncheckedPointer(handle.pointer)
        if undelivered > 0 {
            state.logger.warning("purging undelivered records at shutdown", metadata: ["count": "\(undelivered)"])
            _ = rd_kafka_purge(pointer.value, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
            _ = await Blocking.run { rd_kafka_flush(pointer.value, 1000) }
        }
        await pollThread.stopAndJoin()
        state.wakeCapacityWaiters()
        let handle = self.handle
        await Blocking.run { handle.destroy() }
        return ShutdownReport(undelivered: undelivered)
    }

    deinit {
        pollThread.stopAndJoinSync()
        if state.close() {
            _ = rd_kafka_purge(handle.pointer, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
            _ = rd_kafka_flush(handle.pointer, 1000)
        }
        handle.destroy()
    }
}

/// Producer state reachable from callbacks: close flag and tasks waiting for queue room.
final class ProducerContext: ClientContext, @unchecked Sendable {
    private struct State {
        var closed = false
        var capacityWaiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    var isClosed: Bool { state.withLock { $0.closed } }

    /// Marks the producer closed; returns false if it already was.
    func close() -> Bool {
        state.withLock { state in
            defer { state.closed = true }
            return !state.closed
        }
    }

    /// Suspends until the poll thread has served delivery reports (freeing queue room).
    func waitForCapacity() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state -> Bool in
                if state.closed { return true }
                state.capacityWaiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Resumes every task waiting for queue room.
    func wakeCapacityWaiters() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            defer { state.capacityWaiters.removeAll() }
            return state.capacityWaiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// One record's delivery outcome, bridged from librdkafka's delivery report to an awaiting task.
final class PendingDelivery: Sendable {
    private enum State {
        case pending
        case waiting(CheckedContinuation<RecordMetadata, any Error>)
        case done(Result<RecordMetadata, KafkaError>)
    }
    private let state = Mutex(State.pending)

    /// Records the outcome and resumes the waiting task, if any.
    func complete(_ result: Result<RecordMetadata, KafkaError>) {
        let continuation = state.withLock { state -> CheckedContinuation<RecordMetadata, any Error>? in
            if case .waiting(let continuation) = state {
                state = .done(result)
                return continuation
            }
            state = .done(result)
            return nil
        }
        continuation?.resume(with: result.mapError { $0 as any Error })
    }

    /// Waits for the outcome.
    func value() async throws -> RecordMetadata {
        try await withCheckedThrowingContinuation { continuation in
            let ready = state.withLock { state -> Result<RecordMetadata, KafkaError>? in
                if case .done(let result) = state { return result }
                state = .waiting(continuation)
                return nil
            }
            if let ready { continuation.resume(with: ready.mapError { $0 as any Error }) }
        }
    }
}

/// An `OpaquePointer` carried into `@Sendable` closures; librdkafka handles are thread-safe.
struct UncheckedPointer: @unchecked Sendable {
    let value: OpaquePointer
    init(_ value: OpaquePointer) { self.value = value }
}

func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
    guard let bytes else { return body(nil) }
    return bytes.withUnsafeBytes { body($0) }
}

extension Duration {
    /// Whole milliseconds in this duration (rounded down).
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
