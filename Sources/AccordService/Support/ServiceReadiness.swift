import Synchronization

/// Whether the service has finished starting (its outbox is open and its partitions are known) and may accept events.
final class ServiceReadiness: Sendable {
    private let ready = Atomic<Bool>(false)
    private let closed = Atomic<Bool>(false)

    /// True once the service may accept events.
    var isReady: Bool { ready.load(ordering: .acquiring) }

    /// True once shutdown began: no new events are accepted.
    var isClosed: Bool { closed.load(ordering: .acquiring) }

    /// Marks the service ready.
    func markReady() { ready.store(true, ordering: .releasing) }

    /// Stops intake (shutdown).
    func close() { closed.store(true, ordering: .releasing) }
}

/// The latest reaction lag reading, shared between the consumer and `/health`.
final class LagReading: Sendable {
    private let value = Atomic<Int64>(-1)

    /// The latest reading, or nil before the first.
    var records: Int64? {
        let current = value.load(ordering: .relaxed)
        return current < 0 ? nil : current
    }

    /// Stores a reading.
    func set(_ records: Int64) { value.store(records, ordering: .relaxed) }
}
