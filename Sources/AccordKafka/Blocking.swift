import Foundation

/// Runs librdkafka calls that block (admin requests, commits, watermark queries, destroying a
/// handle) off the cooperative pool, each on a thread of its own.
///
/// A thread per call rather than a shared pool: these calls are few per batch and can each block
/// for seconds (a destroy waits for in-flight requests), so a pool as wide as the machine's cores
/// (what a concurrent dispatch queue gives on Linux) lets a handful of slow calls starve every
/// other client in the process.
enum Blocking {
    /// Runs `body` on a thread of its own and returns its result.
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try body() }) }
            thread.name = "accord-kafka-blocking"
            thread.start()
        }
    }

    /// Runs a non-throwing `body` on a thread of its own and returns its result.
    static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: body()) }
            thread.name = "accord-kafka-blocking"
            thread.start()
        }
    }
}
