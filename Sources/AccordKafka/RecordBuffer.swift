import DequeModule
import Foundation

/// Bounded hand-off of consumed records from the poll thread to the task iterating
/// a consumer. The poll thread blocks while the buffer is full (backpressure); the
/// iterating task suspends while it is empty.
final class RecordBuffer: @unchecked Sendable {
    // @unchecked: every mutable field is guarded by `condition`.
    private let condition = NSCondition()
    private var records = Deque<ConsumerRecord>()
    private var waiter: CheckedContinuation<ConsumerRecord?, any Error>?
    private var ending: KafkaError??
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Hands `record` to a waiting task or buffers it; blocks while full and `keepWaiting()` holds.
    func push(_ record: ConsumerRecord, keepWaiting: () -> Bool) {
        condition.lock()
        while records.count >= capacity && ending == nil && keepWaiting() {
            _ = condition.wait(until: Date(timeIntervalSinceNow: 0.1))
        }
        if ending != nil {
            condition.unlock()
            return
        }
        if let waiter {
            self.waiter = nil
            condition.unlock()
            waiter.resume(returning: record)
            return
        }
        records.append(record)
        condition.unlock()
    }

    /// Drops buffered records of `partitions` (they were revoked and will be re-read by their new owner).
    func removeRecords(of partitions: Set<TopicPartition>) {
        condition.lock()
        records.removeAll { partitions.contains($0.topicPartition) }
        condition.broadcast()
        condition.unlock()
    }

    /// Ends the sequence after the buffered records: normally when `error` is nil, else with `error`.
    func finish(error: KafkaError? = nil) {
        condition.lock()
        if ending == nil { ending = .some(error) }
        let waiter = records.isEmpty ? self.waiter : nil
        if waiter != nil { self.waiter = nil }
        condition.broadcast()
        condition.unlock()
        if let waiter {
            if let error { waiter.resume(throwing: error) } else { waiter.resume(returning: nil) }
        }
    }

    /// Whether `finish` was called.
    var isFinished: Bool {
        condition.lock()
        defer { condition.unlock() }
        return ending != nil
    }

    /// Waits for at least one record, then returns it with up to `max - 1` more that are
    /// already buffered (never waiting for more); empty once finished and drained.
    func nextBatch(max: Int) async throws -> [ConsumerRecord] {
        guard let first = try await next() else { return [] }
        return drain(after: first, max: max)
    }

    private func drain(after first: ConsumerRecord, max: Int) -> [ConsumerRecord] {
        var batch = [first]
        condition.lock()
        while batch.count < max, let record = records.popFirst() {
            batch.append(record)
        }
        condition.broadcast()
        condition.unlock()
        return batch
    }

    /// The next record, or nil once finished and drained.
    func next() async throws -> ConsumerRecord? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ConsumerRecord?, any Error>) in
                condition.lock()
                if let record = records.popFirst() {
                    condition.signal()
                    condition.unlock()
                    continuation.resume(returning: record)
                } else if let ending {
                    condition.unlock()
                    if let error = ending { continuation.resume(throwing: error) } else { continuation.resume(returning: nil) }
                } else if Task.isCancelled {
                    condition.unlock()
                    continuation.resume(throwing: CancellationError())
                } else {
                    waiter = continuation
                    condition.unlock()
                }
            }
        } onCancel: {
            condition.lock()
            let waiter = self.waiter
            self.waiter = nil
            condition.unlock()
            waiter?.resume(throwing: CancellationError())
        }
    }
}
