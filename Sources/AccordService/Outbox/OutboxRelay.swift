import AccordBus
import AccordEvents
import AccordIntegrity
import AccordKafka
import AccordRuntime
import Logging
import Synchronization

/// What the relay is doing, as `/health` reports it.
enum RelayState: String, Sendable, Codable {
    /// Reading what Kafka already holds of unsent entries (after a restart), before sending.
    case reconciling
    /// Nothing to send.
    case idle
    /// Sending entries.
    case sending
    /// The last attempt failed; waiting before the next.
    case retrying
    /// Stopped (shutdown).
    case stopped
}

/// A snapshot of the relay for health and metrics.
struct RelayStatus: Sendable, Codable {
    /// What it is doing.
    var state: RelayState
    /// The latest failure, until the next success.
    var lastError: String?
    /// Failed attempts since the last success.
    var consecutiveFailures: Int
    /// When the oldest entry it is working on was accepted (ms since the epoch), if any.
    var oldestPendingAcceptedAtMilliseconds: Int64?
}

/// Publishes outbox entries to Kafka in outbox order — so in chain order on every partition —
/// with the idempotent producer, and marks them sent only after their delivery reports.
///
/// When an entry of a chain is not acknowledged, it and every later entry of that chain are
/// sent again (after a backoff that grows to ``maximumBackoff``), even when some of the later
/// ones were acknowledged: a chain is only ever extended in order. After a restart it first
/// reads the tail of every partition with unsent entries and marks the entries Kafka already
/// holds (written just before a crash) as sent, so they are not produced twice.
final class OutboxRelay: Sendable {
    /// The first wait after a failure.
    static let minimumBackoff: Duration = .milliseconds(100)
    /// The longest wait between attempts.
    static let maximumBackoff: Duration = .seconds(5)
    /// Batches smaller than this wait ``coalesceDelay`` for more entries before they are sent.
    static let coalesceBelow = 64
    /// How long a small batch waits for more entries.
    static let coalesceDelay: Duration = .milliseconds(5)

    private let outbox: Outbox
    private let producer: KafkaProducer
    private let configuration: ServiceConfiguration
    private let metrics: ServiceMetrics
    private let clock: ServiceClock
    private let logger: Logger
    private let batchSize: Int
    private let signal = WakeSignal()

    private struct State {
        var status = RelayStatus(state: .reconciling, lastError: nil, consecutiveFailures: 0,
                                 oldestPendingAcceptedAtMilliseconds: nil)
        var stopping = false
    }
    private let state = Mutex(State())

    init(outbox: Outbox, producer: KafkaProducer, configuration: ServiceConfiguration, metrics: ServiceMetrics,
         clock: ServiceClock, logger: Logger, batchSize: Int = 2000) {
        self.outbox = outbox
        self.producer = producer
        self.configuration = configuration
        self.metrics = metrics
        self.clock = clock
        self.logger = logger
        self.batchSize = max(1, batchSize)
    }

    /// The relay's current status.
    var status: RelayStatus { state.withLock { $0.status } }

    /// Tells the relay that new entries were committed.
    func notify() { signal.fire() }

    /// Asks the relay to stop after its current attempt.
    func stop() {
        state.withLock { $0.stopping = true }
        signal.fire()
    }

    private var isStopping: Bool { state.withLock { $0.stopping } }

    /// Waits until every entry is sent or `timeout` passes; returns how many are still unsent.
    func drain(timeout: Duration) async -> Int {
        let deadline = ContinuousClock.now + timeout
        while outbox.pendingCount > 0 && ContinuousClock.now < deadline && !isStopping {
            signal.fire()
            try? await Task.sleep(for: .milliseconds(20))
        }
        return outbox.pendingCount
    }

    /// Runs until ``stop()``: reconciles, then sends entries as they are committed.
    func run() async {
        var backoff = Self.minimumBackoff
        while !isStopping {
            do {
                try await reconcile()
                break
            } catch {
                fail("could not read what Kafka holds of the unsent entries: \(error)")
                await signal.wait(timeout: backoff)
                backoff = min(backoff * 2, Self.maximumBackoff)
            }
        }
        backoff = Self.minimumBackoff
        var cursor: Int64 = outbox.chains.values.filter(\.hasPending).map(\.sentThrough).min() ?? Int64.max
        if cursor == Int64.max { cursor = outbox.chains.values.map(\.lastSeq).max() ?? 0 }
        var retry: [OutboxEntry] = []
        while !isStopping {
            var batch = retry
            let scannedFrom = cursor
            if batch.count < batchSize {
                do {
                    let more = try await outbox.entries(after: cursor, limit: batchSize - batch.count)
                    cursor = max(cursor, more.scannedThrough)
                    batch += more.entries
                } catch {
                    fail("cannot read the outbox: \(error)")
                    await signal.wait(timeout: backoff)
                    backoff = min(backoff * 2, Self.maximumBackoff)
                    continue
                }
            }
            guard !batch.isEmpty else {
                // Only already acknowledged entries were passed over: keep reading.
                if cursor > scannedFrom { continue }
                setState(.idle, oldest: nil)
                await signal.wait(timeout: .milliseconds(500))
                continue
            }
            if batch.count < Self.coalesceBelow && retry.isEmpty {
                // A trickle: wait a moment so one produce round and one outbox transaction carry
                // several requests' entries instead of one each.
                try? await Task.sleep(for: Self.coalesceDelay)
                // Entries that cannot be read now are read again from `cursor` in the next round.
                if let more = try? await outbox.entries(after: cursor, limit: batchSize - batch.count) {
                    cursor = max(cursor, more.scannedThrough)
                    batch += more.entries
                }
            }
            setState(.sending, oldest: batch.first?.acceptedAtMilliseconds)
            retry = await send(batch)
            if retry.isEmpty {
                backoff = Self.minimumBackoff
                succeed()
            } else {
                metrics.relayRetried(retry.count)
                if isStopping { break }
                await signal.wait(timeout: backoff)
                backoff = min(backoff * 2, Self.maximumBackoff)
            }
        }
        setState(.stopped, oldest: nil)
    }

    /// Sends `batch` in order; returns the entries to send again (per chain, from its first failure on).
    private func send(_ batch: [OutboxEntry]) async -> [OutboxEntry] {
        let results = await producer.send(contentsOf: batch.map(\.producerRecord))
        var failed: Set<ChainID> = []
        var retry: [OutboxEntry] = []
        var deliveries: [OutboxDelivery] = []
        var events = 0
        var firstError: KafkaError?
        for (index, entry) in batch.enumerated() {
            let result: Result<RecordMetadata, KafkaError> = index < results.count
                ? results[index] : .failure(KafkaError(kind: .delivery, message: "no delivery report"))
            if failed.contains(entry.chain) {
                retry.append(entry)
                continue
            }
            switch result {
            case .success(let metadata):
                deliveries.append(OutboxDelivery(seq: entry.seq, chain: entry.chain, offset: metadata.offset))
                if entry.kind == .event { events += 1 }
            case .failure(let error):
                firstError = firstError ?? error
                failed.insert(entry.chain)
                retry.append(entry)
            }
        }
        // The acknowledged records are on Kafka: keep trying to note that, never send them again.
        var backoff = Self.minimumBackoff
        while true {
            do {
                try await outbox.markDelivered(deliveries, at: clock.now())
                break
            } catch {
                logger.error("cannot write delivery reports to the outbox; retrying", metadata: ["error": "\(error)"])
                fail("cannot write delivery reports to the outbox: \(error)")
                // Unmarked entries are matched against Kafka at the next start.
                if isStopping { return retry }
                await signal.wait(timeout: backoff)
                backoff = min(backoff * 2, Self.maximumBackoff)
            }
        }
        metrics.relayPublished(events: events, checkpoints: deliveries.count - events)
        if let firstError {
            fail("Kafka did not acknowledge \(retry.count) entries of \(failed.count) chain(s): \(firstError)")
            logger.warning("outbox entries not acknowledged; sending them again after a pause", metadata: [
                "entries": "\(retry.count)", "chains": "\(failed.count)", "error": "\(firstError)"])
        }
        return retry
    }

    /// Marks entries Kafka already holds as sent: for every chain with unsent entries, reads its
    /// partition after the last acknowledged offset and matches this source's records, in order,
    /// against the unsent entries (by event hash, or by the checkpoint's bytes).
    private func reconcile() async throws {
        let pending = outbox.chains.values.filter(\.hasPending)
        guard !pending.isEmpty else { return }
        setState(.reconciling, oldest: nil)
        var assignment: [TopicPartition: StartOffset] = [:]
        var queues: [ChainID: [OutboxEntry]] = [:]
        for chain in pending {
            let id = chain.writer.chain
            queues[id] = try await outbox.pendingEntries(of: id)
            assignment[TopicPartition(topic: id.topic, partition: id.partition)] =
                chain.lastOffset >= 0 ? .offset(chain.lastOffset + 1) : .beginning
        }
        let consumer = try KafkaConsumer(configuration: .init(bootstrapServers: configuration.bootstrapServers,
                                                              clientID: "accord-\(outbox.source.kind.rawValue)-reconcile",
                                                              properties: configuration.kafkaProperties),
                                         logger: logger)
        var found: [OutboxDelivery] = []
        var cursors: [ChainID: Int] = [:]
        do {
            try await consumer.assign(assignment, stopAtEnd: true, timeout: configuration.queryTimeout)
            for try await record in consumer.records {
                let chain = ChainID(source: outbox.source.urn, topic: record.topic, partition: record.partition)
                guard let queue = queues[chain] else { continue }
                let index = cursors[chain, default: 0]
                guard index < queue.count else { continue }
                let message = record.binaryMessage
                let identity: Hash256?
                if ChainCheckpoint.isCheckpointRecord(message) {
                    identity = Hash256.sha256(message.value)
                } else if record.header("ce_source")?.stringValue == outbox.source.urn {
                    // A record that cannot be hashed was not produced from this outbox: it matches
                    // no entry, and the entry it stands beside is sent again.
                    identity = try? EventHashing.hash(message: message).hash
                } else {
                    identity = nil
                }
                if let identity, identity == queue[index].identity {
                    found.append(OutboxDelivery(seq: queue[index].seq, chain: chain, offset: record.offset))
                    cursors[chain] = index + 1
                }
            }
        } catch {
            await consumer.close()
            throw error
        }
        await consumer.close()
        try await outbox.markDelivered(found, at: clock.now())
        let total = queues.values.reduce(0) { $0 + $1.count }
        logger.notice("outbox reconciled with Kafka after a restart", metadata: [
            "unsent": "\(total)", "alreadyOnKafka": "\(found.count)", "toSend": "\(total - found.count)",
            "chains": "\(queues.count)"])
    }

    private func setState(_ value: RelayState, oldest: Int64?) {
        state.withLock { state in
            state.status.state = value
            state.status.oldestPendingAcceptedAtMilliseconds = oldest
        }
    }

    private func fail(_ message: String) {
        state.withLock { state in
            state.status.state = .retrying
            state.status.lastError = message
            state.status.consecutiveFailures += 1
        }
    }

    private func succeed() {
        state.withLock { state in
            state.status.lastError = nil
            state.status.consecutiveFailures = 0
        }
    }
}

/// A wake-up signal for one waiting task: ``fire()`` wakes the waiter, or the next ``wait(timeout:)``
/// returns at once.
final class WakeSignal: Sendable {
    private struct State {
        var fired = false
        var waiter: CheckedContinuation<Void, Never>?
        var generation = 0
        var expired = 0
    }
    private let state = Mutex(State())

    /// Wakes the waiter (or the next one).
    func fire() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.fired = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns when fired, after `timeout`, or at once when already fired. One waiter at a time.
    func wait(timeout: Duration) async {
        let generation = state.withLock { state -> Int? in
            if state.fired {
                state.fired = false
                return nil
            }
            state.generation += 1
            return state.generation
        }
        guard let generation else { return }
        let timer = Task { [self] in
            try? await Task.sleep(for: timeout)
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.expired = max(state.expired, generation)
                guard state.generation == generation, let waiter = state.waiter else { return nil }
                state.waiter = nil
                return waiter
            }
            waiter?.resume()
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                if state.fired || state.expired >= generation {
                    state.fired = false
                    return true
                }
                state.waiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
        timer.cancel()
    }
}
