import Dispatch

/// Threads for librdkafka calls that block (synchronous commits, watermark queries,
/// admin requests, flush, destroy), so they never occupy Swift's cooperative pool.
enum Blocking {
    private static let queue = DispatchQueue(label: "accord.kafka.blocking", attributes: .concurrent)

    /// Runs `body` on a blocking-work thread and returns its result.
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body() })
            }
        }
    }

    /// Runs a non-throwing `body` on a blocking-work thread and returns its result.
    static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: body()) }
        }
    }
}
