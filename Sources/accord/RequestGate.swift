import AccordProcesses
import Foundation
import Synchronization

/// The demo's own HTTP requests (publishing, health and readiness polls), let through one by
/// one until Ctrl-C closes the gate; `close` then waits for the requests in flight before the
/// processes they talk to are stopped, so no request is cut off (and reported as a failure) by a
/// process stopping under it.
final class RequestGate: Sendable {
    private let state = Mutex((closed: false, inFlight: 0))

    /// Whether requests may still start.
    var isOpen: Bool { state.withLock { !$0.closed } }

    /// Throws once the gate is closed.
    func check() throws {
        guard isOpen else { throw ChildProcessError("stopping: no more requests") }
    }

    /// Runs `request` unless the gate is closed (then throws at once).
    func pass<T: Sendable>(_ request: () async throws -> T) async throws -> T {
        try state.withLock { state throws in
            guard !state.closed else { throw ChildProcessError("stopping: no more requests") }
            state.inFlight += 1
        }
        defer { state.withLock { $0.inFlight -= 1 } }
        return try await request()
    }

    /// Polls `url` until it answers 200, as `HTTPProbe.waitUntilOK`, one request at a time through the gate.
    func waitUntilOK(_ url: String, timeout: Duration, stillAlive: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        var last = "no answer"
        while ContinuousClock.now < deadline {
            guard stillAlive() else { throw ChildProcessError("gave up waiting for \(url): the process exited") }
            try check()
            if let response = try? await pass({ try await HTTPProbe.get(url) }) {
                if response.status == 200 { return }
                last = "\(response.status) \(response.text)"
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw ChildProcessError("\(url) not ready within \(timeout): \(last)")
    }

    /// Lets no new request start and waits up to `limit` for those in flight to finish.
    func close(waitingUpTo limit: Duration) async {
        state.withLock { $0.closed = true }
        let deadline = ContinuousClock.now + limit
        while state.withLock({ $0.inFlight }) > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
