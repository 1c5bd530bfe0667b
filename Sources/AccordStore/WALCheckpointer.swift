import Dispatch
import Foundation
import GRDB
import Synchronization

/// Copies the store's write-ahead log back into the database file from a connection and a
/// thread of its own, a few times a second, so that the single writer only appends to the log
/// and never waits for a checkpoint's copying and syncing. Passive checkpoints never block the
/// writer or readers. A writer that never pauses keeps the log from starting over, so once the
/// log holds ``restartPages`` pages, a pass waits for the writer's transaction to end and
/// truncates it (by then almost everything is copied, so the writer waits only briefly). When
/// the writer starts the log over by itself, the file is cut back to ``logLimitBytes``. If
/// this falls behind, SQLite's own automatic checkpoint (at ``fallbackPages``) still runs.
final class WALCheckpointer: Sendable {
    /// Pages of log after which the writer checkpoints by itself (64 MB at 4 KB pages).
    static let fallbackPages = 16_384
    /// Pages of log after which a pass truncates it (16 MB at 4 KB pages).
    static let restartPages = 4_096
    /// The size the log file is cut back to when it starts over (`journal_size_limit`).
    static let logLimitBytes = 4 * 1024 * 1024

    private let path: String
    private let queue = DispatchQueue(label: "accord.projector.store.checkpointer", qos: .utility)
    /// Dispatch sources are safe to cancel from any thread.
    nonisolated(unsafe) private let timer: any DispatchSourceTimer
    /// Set on `queue`: whether the caller runs on it (the last reference may go during a pass).
    private static let onQueue = DispatchSpecificKey<Bool>()
    /// Opened at the first pass (not while the store is still being created).
    private let connection: Mutex<DatabaseQueue?> = Mutex(nil)

    /// Starts checkpointing the store at `path` every `interval`.
    init(path: String, interval: DispatchTimeInterval = .milliseconds(100)) {
        self.path = path
        queue.setSpecific(key: Self.onQueue, value: true)
        timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + interval, repeating: interval, leeway: .milliseconds(20))
        timer.setEventHandler { [weak self] in self?.pass() }
        timer.resume()
    }

    /// One checkpoint. A failed pass is harmless: the next one, or the writer's own fallback,
    /// copies the log.
    private func pass() {
        connection.withLock { queue in
            // Never create a file: a store removed meanwhile is not checkpointed.
            if queue == nil, FileManager.default.fileExists(atPath: path) {
                var configuration = Configuration()
                configuration.label = "accord.projector.store.checkpointer"
                configuration.busyMode = .timeout(2)
                queue = try? DatabaseQueue(path: path, configuration: configuration)
            }
            try? queue?.writeWithoutTransaction { db in
                // (busy, pages in the log, pages copied)
                guard let row = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)") else { return }
                let pages: Int = row[1]
                if pages >= Self.restartPages {
                    _ = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
                }
            }
        }
    }

    /// Stops checkpointing and closes the connection before returning, so that the store's own
    /// connections close last (the last one to close copies the log and removes it).
    func stop() {
        timer.cancel()
        if DispatchQueue.getSpecific(key: Self.onQueue) == true {
            connection.withLock { $0 = nil }
        } else {
            queue.sync { connection.withLock { $0 = nil } }
        }
    }

    deinit {
        stop()
    }
}
