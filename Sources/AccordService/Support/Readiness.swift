import Synchronization

/// Whether the startup replay of the agency's own topic has finished (the service may publish).
final class Readiness: Sendable {
    private let ready = Atomic<Bool>(false)

    /// True once the service may publish.
    var isReady: Bool { ready.load(ordering: .acquiring) }

    /// Marks the service ready.
    func markReady() { ready.store(true, ordering: .releasing) }
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
