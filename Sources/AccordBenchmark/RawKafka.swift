import CRdKafka
import Foundation
import Synchronization

/// Produce and consume loops straight on librdkafka's C API (not Accord's Swift wrapper): the
/// baselines the benchmark compares Accord with, and the way it fills the topics.
public enum RawKafka {
    /// What one raw produce run did.
    public struct ProduceResult: Sendable {
        /// Records acknowledged by the broker.
        public let delivered: Int
        /// Seconds from the first record queued (once connected) to the last acknowledgement.
        public let seconds: Double
    }

    /// What one raw consume run read.
    public struct ConsumeResult: Sendable {
        /// Records read.
        public let records: Int
        /// Records read that are chain checkpoints (header `accord-record-kind`).
        public let checkpoints: Int
        /// Key + value bytes read.
        public let bytes: Int
        /// Headers read.
        public let headers: Int
        /// Records read per topic and partition.
        public let perPartition: [String: [Int32: Int]]
        /// Seconds from the first record to the last one read.
        public let seconds: Double
    }

    private final class Deliveries: Sendable {
        let succeeded = Atomic<Int>(0)
        let failed = Atomic<Int>(0)
        let firstError = Mutex<String?>(nil)
    }

    private static func configuration(_ properties: [String: String]) throws -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else { throw BenchError("rd_kafka_conf_new failed") }
        var error = [CChar](repeating: 0, count: 512)
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
            if rd_kafka_conf_set(conf, key, value, &error, error.count) != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                throw BenchError("librdkafka property \(key)=\(value): \(text(error))")
            }
        }
        return conf
    }

    /// The text of a NUL-terminated error buffer.
    private static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func client(_ type: rd_kafka_type_t, _ conf: OpaquePointer) throws -> OpaquePointer {
        var error = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(type, conf, &error, error.count) else {
            rd_kafka_conf_destroy(conf)
            throw BenchError("rd_kafka_new: \(text(error))")
        }
        return handle
    }

    /// Produces every record of `workload` in order to `bootstrap` (idempotent, acks=all) and waits
    /// for every acknowledgement. Blocking: call from a dedicated thread.
    static func produce(_ workload: Workload, bootstrap: String) throws -> ProduceResult {
        let conf = try configuration([
            "bootstrap.servers": bootstrap, "client.id": "accord-bench-raw-producer",
            "enable.idempotence": "true", "acks": "all", "linger.ms": "5",
            "queue.buffering.max.messages": "1000000", "queue.buffering.max.kbytes": "1048576",
            "message.timeout.ms": "120000",
        ])
        let deliveries = Deliveries()
        let opaque = Unmanaged.passRetained(deliveries)
        defer { opaque.release() }
        rd_kafka_conf_set_opaque(conf, opaque.toOpaque())
        rd_kafka_conf_set_dr_msg_cb(conf) { _, message, opaque in
            guard let message, let opaque else { return }
            let deliveries = Unmanaged<Deliveries>.fromOpaque(opaque).takeUnretainedValue()
            if message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                deliveries.succeeded.add(1, ordering: .relaxed)
            } else {
                deliveries.failed.add(1, ordering: .relaxed)
                let text = String(cString: rd_kafka_err2str(message.pointee.err))
                deliveries.firstError.withLock { if $0 == nil { $0 = text } }
            }
        }
        let producer = try client(RD_KAFKA_PRODUCER, conf)
        defer { rd_kafka_destroy(producer) }
        let names = workload.topics.map(\.name)
        // Connect and learn the topics before the clock starts.
        var metadata: UnsafePointer<rd_kafka_metadata_t>?
        if rd_kafka_metadata(producer, 1, nil, &metadata, 30_000) == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata {
            rd_kafka_metadata_destroy(metadata)
        }
        let start = Monotonic.now()
        for record in workload.records {
            try record.withParts { key, value, section in
                while true {
                    guard let headers = rd_kafka_headers_new(record.headerCount) else { throw BenchError("rd_kafka_headers_new failed") }
                    WorkloadRecord.forEachHeader(in: section) { name, value in
                        _ = name.withMemoryRebound(to: CChar.self) { chars in
                            rd_kafka_header_add(headers, chars.baseAddress, name.count, value.baseAddress, value.count)
                        }
                    }
                    let result = accord_produce(producer, names[record.topicIndex], record.partition,
                                                key.baseAddress, key.count, value.baseAddress, value.count, headers, 0, nil)
                    if result == RD_KAFKA_RESP_ERR_NO_ERROR { return }
                    rd_kafka_headers_destroy(headers)
                    guard result == RD_KAFKA_RESP_ERR__QUEUE_FULL else {
                        throw BenchError("produce: \(String(cString: rd_kafka_err2str(result)))")
                    }
                    rd_kafka_poll(producer, 5)
                }
            }
            rd_kafka_poll(producer, 0)
        }
        let flushed = rd_kafka_flush(producer, 120_000)
        let seconds = Monotonic.seconds(from: start, to: Monotonic.now())
        guard flushed == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw BenchError("raw produce: \(rd_kafka_outq_len(producer)) records still unacknowledged after 120 s")
        }
        let failed = deliveries.failed.load(ordering: .relaxed)
        guard failed == 0 else {
            throw BenchError("raw produce: \(failed) records not acknowledged: \(deliveries.firstError.withLock { $0 } ?? "?")")
        }
        return ProduceResult(delivered: deliveries.succeeded.load(ordering: .relaxed), seconds: seconds)
    }

    /// Reads every partition of `topics` from the beginning until `expected` records arrived, or
    /// until nothing arrived for `idle` (pass `Int.max` to read until idle). Blocking: call from a
    /// dedicated thread.
    static func consume(bootstrap: String, topics: [Workload.Topic], expected: Int,
                        idle: Duration = .seconds(15)) throws -> ConsumeResult {
        let conf = try configuration([
            "bootstrap.servers": bootstrap, "client.id": "accord-bench-raw-consumer",
            "group.id": "accord-bench-raw-\(UUID().lowercasedString)",
            "enable.auto.commit": "false", "enable.auto.offset.store": "false", "auto.offset.reset": "earliest",
        ])
        let consumer = try client(RD_KAFKA_CONSUMER, conf)
        defer { rd_kafka_destroy(consumer) }
        rd_kafka_poll_set_consumer(consumer)
        guard let list = rd_kafka_topic_partition_list_new(Int32(topics.reduce(0) { $0 + Int($1.partitions) })) else {
            throw BenchError("rd_kafka_topic_partition_list_new failed")
        }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in topics {
            for partition in 0..<topic.partitions {
                rd_kafka_topic_partition_list_add(list, topic.name, partition)?.pointee.offset = Int64(RD_KAFKA_OFFSET_BEGINNING)
            }
        }
        let assigned = rd_kafka_assign(consumer, list)
        guard assigned == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw BenchError("assign: \(String(cString: rd_kafka_err2str(assigned)))")
        }
        var perPartition: [String: [Int32: Int]] = [:]
        var records = 0, bytes = 0, headerCount = 0, checkpoints = 0
        let idleNanoseconds = UInt64(idle / .milliseconds(1)) * 1_000_000
        var start: UInt64?
        var end = Monotonic.now()
        var lastArrival = end
        var countsByHandle: [OpaquePointer: (name: String, counts: [Int])] = [:]
        while records < expected {
            guard let message = rd_kafka_consumer_poll(consumer, 100) else {
                if Monotonic.now() - lastArrival > idleNanoseconds { break }
                continue
            }
            defer { rd_kafka_message_destroy(message) }
            let error = message.pointee.err
            if error == RD_KAFKA_RESP_ERR__PARTITION_EOF { continue }
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw BenchError("raw consume: \(String(cString: rd_kafka_err2str(error)))")
            }
            var headers: OpaquePointer?
            if rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR, let headers {
                headerCount += rd_kafka_header_cnt(headers)
                var kind: UnsafeRawPointer?
                var size = 0
                if rd_kafka_header_get_last(headers, "accord-record-kind", &kind, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                    checkpoints += 1
                }
            }
            bytes += message.pointee.len + message.pointee.key_len
            records += 1
            if let handle = message.pointee.rkt {
                let partition = Int(message.pointee.partition)
                var entry = countsByHandle[handle] ?? (String(cString: rd_kafka_topic_name(handle)), [])
                if entry.counts.count <= partition { entry.counts += Array(repeating: 0, count: partition + 1 - entry.counts.count) }
                entry.counts[partition] += 1
                countsByHandle[handle] = entry
            }
            lastArrival = Monotonic.now()
            end = lastArrival
            if start == nil { start = lastArrival }
        }
        for (_, entry) in countsByHandle {
            for (partition, count) in entry.counts.enumerated() where count > 0 {
                perPartition[entry.name, default: [:]][Int32(partition), default: 0] += count
            }
        }
        return ConsumeResult(records: records, checkpoints: checkpoints, bytes: bytes, headers: headerCount,
                             perPartition: perPartition,
                             seconds: Monotonic.seconds(from: start ?? end, to: end))
    }
}
