import AccordBus
import AccordEvents
import AccordIntegrity
import AccordKafka
import Logging
import Synchronization

/// The publisher's view of one chain `(source, topic, partition)`.
struct ChainProgress: Sendable, Hashable {
    /// The chain's head, length and last sequence, including events whose delivery is pending.
    var writer: ChainWriter
    /// How many events the last acknowledged checkpoint covers.
    var covered: Int64 = 0
    /// Why the chain is halted: Kafka did not acknowledge one of its events, so the head the
    /// writer holds may not be the head Kafka has. Nil while the chain is healthy.
    var fault: String?

    /// Events not yet covered by an acknowledged checkpoint.
    var uncovered: Int64 { writer.count - covered }
}

/// An event the broker acknowledged, as it was sealed into its chain.
struct ChainedPublication: Sendable {
    /// The event with its `prevHash` set.
    var event: AccordEvent
    /// Where Kafka stored it.
    var metadata: RecordMetadata
    /// Its position in its chain.
    var position: Int64
}

/// The event would join a chain that is halted after a delivery failure.
struct ChainHaltedError: Error, Sendable, CustomStringConvertible {
    /// The chain.
    var chain: ChainID
    /// Why it is halted.
    var reason: String

    var description: String {
        "chain \(chain) is halted: \(reason). The service accepts no event for this chain until it restarts and re-reads the chain's head from Kafka."
    }
}

/// Publishes this agency's events hash-chained per `(source, topic, partition)` and covers them
/// with Ed25519-signed checkpoints (`schemas/integrity.md` §3–4).
///
/// Every operation that seals, produces or checkpoints runs while holding ``gate`` (the intake's
/// FIFO gate, which also assigns sequence numbers), so on every partition the chain order is the
/// produce order is the sequence order, and a checkpoint follows the events it covers.
///
/// Delivery failures: an event Kafka does not acknowledge may or may not have been written. The
/// chain it belongs to is then **halted** — the writer's head may be a head Kafka does not have,
/// and continuing from it (or from the previous head) could fork the chain. Requests with events
/// for a halted chain are answered 503, `/health` reports the fault, and no checkpoint is signed
/// for it; a restart rebuilds the head from what Kafka actually holds. Other chains continue.
/// A checkpoint that is not acknowledged halts nothing: it is simply issued again.
final class ChainPublisher: Sendable {
    /// The gate under which sequences are assigned and records produced.
    let gate = AsyncGate()
    /// The signing key of the checkpoints.
    let key: AgencySigningKey
    private let source: EventSource
    private let producer: KafkaProducer
    private let codec: EventCodec
    private let metrics: ServiceMetrics
    private let logger: Logger

    private struct State {
        var partitions: [String: Int32] = [:]
        var chains: [ChainID: ChainProgress] = [:]
    }
    private let state = Mutex(State())

    init(source: EventSource, key: AgencySigningKey, producer: KafkaProducer, codec: EventCodec,
         metrics: ServiceMetrics, logger: Logger) {
        self.source = source
        self.key = key
        self.producer = producer
        self.codec = codec
        self.metrics = metrics
        self.logger = logger
    }

    /// Installs the partition counts of the own topics and the chains rebuilt from them at startup.
    func resume(partitions: [String: Int32], chains: [ChainID: ChainProgress]) {
        state.withLock { state in
            state.partitions = partitions
            state.chains = chains
        }
    }

    /// The chain an event with this topic and partition key joins; nil when the topic's partition
    /// count is not known (the topic does not exist).
    func chain(topic: String, partitionKey: String) -> ChainID? {
        state.withLock { Self.chain(topic: topic, partitionKey: partitionKey, partitions: $0.partitions, source: source) }
    }

    private static func chain(topic: String, partitionKey: String, partitions: [String: Int32],
                              source: EventSource) -> ChainID? {
        guard let count = partitions[topic],
              let partition = KafkaPartitioner.murmur2(key: partitionKey, partitions: count) else { return nil }
        return ChainID(source: source.urn, topic: topic, partition: partition)
    }

    /// The halted chains and why, by chain.
    var faults: [ChainID: String] {
        state.withLock { $0.chains.compactMapValues(\.fault) }
    }

    /// Every chain's progress.
    var chains: [ChainID: ChainProgress] { state.withLock { $0.chains } }

    /// Seals `events` into their chains and produces them with explicit partitions, in order, then
    /// waits for every delivery report. One result per event, in order. Call holding ``gate``.
    func publish(_ events: [AccordEvent]) async -> [Result<ChainedPublication, any Error>] {
        enum Slot {
            case queued(record: Int, sealed: SealedEvent, chain: ChainID)
            case refused(any Error)
        }
        let (slots, records) = state.withLock { state -> ([Slot], [ProducerRecord]) in
            var slots: [Slot] = []
            var records: [ProducerRecord] = []
            for event in events {
                let topic = event.topic.name
                guard let chain = Self.chain(topic: topic, partitionKey: event.partitionKey,
                                             partitions: state.partitions, source: source) else {
                    slots.append(.refused(KafkaError(kind: .produce, message: "the partitions of topic \(topic) are not known")))
                    continue
                }
                var progress = state.chains[chain] ?? ChainProgress(writer: ChainWriter(chain: chain))
                if let fault = progress.fault {
                    slots.append(.refused(ChainHaltedError(chain: chain, reason: fault)))
                    continue
                }
                do {
                    let sealed = try progress.writer.seal(event, codec: codec)
                    state.chains[chain] = progress
                    slots.append(.queued(record: records.count, sealed: sealed, chain: chain))
                    records.append(ProducerRecord(
                        topic: topic, key: sealed.message.key, value: sealed.message.value,
                        headers: sealed.message.headers.map { KafkaHeader(key: $0.name, value: $0.value) },
                        partition: chain.partition))
                } catch {
                    slots.append(.refused(error))
                }
            }
            return (slots, records)
        }
        let delivered = records.isEmpty ? [] : await producer.send(contentsOf: records)
        var results: [Result<ChainedPublication, any Error>] = []
        var halted: [(ChainID, String)] = []
        for slot in slots {
            switch slot {
            case .refused(let error):
                results.append(.failure(error))
            case .queued(let index, let sealed, let chain):
                let outcome = index < delivered.count
                    ? delivered[index]
                    : .failure(KafkaError(kind: .delivery, message: "no delivery report"))
                switch outcome {
                case .success(let metadata):
                    results.append(.success(ChainedPublication(event: sealed.event, metadata: metadata,
                                                               position: sealed.position)))
                case .failure(let error):
                    results.append(.failure(error))
                    halted.append((chain, "Kafka did not acknowledge event \(sealed.event.idString) (sequence \(sealed.event.sequence), chain position \(sealed.position)): \(error)"))
                }
            }
        }
        if !halted.isEmpty {
            state.withLock { state in
                for (chain, reason) in halted where state.chains[chain]?.fault == nil {
                    state.chains[chain]?.fault = reason
                }
            }
            for (chain, reason) in halted {
                logger.critical("chain halted: an event was not acknowledged, so its head is uncertain; restart the service to re-read it from Kafka",
                                metadata: ["chain": "\(chain)", "reason": "\(reason)"])
            }
        }
        return results
    }

    /// Signs and produces a checkpoint for every healthy chain with at least `minimumUncovered`
    /// (≥ 1) events not yet covered, after those events, and waits for the delivery reports.
    /// Returns how many checkpoints Kafka acknowledged. Call holding ``gate``.
    @discardableResult
    func checkpoint(minimumUncovered: Int64, issuedAt: Timestamp) async -> Int {
        let threshold = max(1, minimumUncovered)
        let due = state.withLock { state -> [ChainCheckpoint] in
            state.chains.values
                .filter { $0.fault == nil && $0.uncovered >= threshold }
                .compactMap { progress -> ChainCheckpoint? in
                    do {
                        return try progress.writer.checkpoint(issuedAt: issuedAt, key: key)
                    } catch {
                        logger.error("cannot sign a checkpoint", metadata: ["chain": "\(progress.writer.chain)", "error": "\(error)"])
                        return nil
                    }
                }
                .sorted { ($0.chain.topic, $0.chain.partition) < ($1.chain.topic, $1.chain.partition) }
        }
        guard !due.isEmpty else { return 0 }
        let records = due.map { checkpoint in
            let message = checkpoint.record
            return ProducerRecord(topic: checkpoint.chain.topic, key: message.key, value: message.value,
                                  headers: message.headers.map { KafkaHeader(key: $0.name, value: $0.value) },
                                  partition: checkpoint.chain.partition)
        }
        let delivered = await producer.send(contentsOf: records)
        var acknowledged = 0
        for (checkpoint, result) in zip(due, delivered) {
            switch result {
            case .success:
                acknowledged += 1
                metrics.checkpointPublished(topic: checkpoint.chain.topic)
                state.withLock { state in
                    if let covered = state.chains[checkpoint.chain]?.covered, covered < checkpoint.count {
                        state.chains[checkpoint.chain]?.covered = checkpoint.count
                    }
                }
                logger.debug("checkpoint published", metadata: [
                    "chain": "\(checkpoint.chain)", "count": "\(checkpoint.count)", "head": "\(checkpoint.head)"])
            case .failure(let error):
                logger.warning("a checkpoint was not acknowledged; it will be issued again",
                               metadata: ["chain": "\(checkpoint.chain)", "error": "\(error)"])
            }
        }
        return acknowledged
    }
}
