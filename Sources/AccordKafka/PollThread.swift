import Dispatch
import Foundation
import Synchronization

/// A dedicated thread that serves one librdkafka handle's queue: every librdkafka
/// callback of that handle runs here, one at a time. It blocks inside librdkafka's
/// poll call with a timeout (no busy-waiting) until told to stop.
final class PollThread: Sendable {
    private let running = Atomic<Bool>(true)
    private let exited = DispatchSemaphore(value: 0)

    /// Starts a thread named `name` that calls `iteration` until `stop()`.
    init(name: String, iteration: @escaping @Sendable () -> Void) {
        let thread = Thread { [self] in
            while running.load(ordering: .acquiring) {
                iteration()
            }
            exited.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Whether the thread has not been told to stop.
    var isRunning: Bool { running.load(ordering: .acquiring) }

    /// Tells the thread to stop after its current iteration and waits for it to exit.
    func stopAndJoin() async {
        guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        await Blocking.run { [exited] in exited.wait() }
    }

    /// Synchronous variant of `stopAndJoin` for deinitialisers.
    func stopAndJoinSync() {
        guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        exited.wait()
    }
}
