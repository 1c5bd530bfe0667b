import Foundation
import Synchronization

/// Progress of long benchmark steps, as plain lines on stderr (never on stdout, which carries the report).
public final class BenchProgress: Sendable {
    private let enabled: Bool
    private let started = ContinuousClock.now
    private let lastLine = Mutex<ContinuousClock.Instant?>(nil)

    /// Creates a reporter; when `enabled` is false nothing is written.
    public init(enabled: Bool = true) {
        self.enabled = enabled
    }

    /// Writes one line, prefixed with the time since the benchmark started.
    public func say(_ message: String) {
        guard enabled else { return }
        let elapsed = Double((ContinuousClock.now - started) / .milliseconds(1)) / 1000
        let line = "[bench \(String(format: "%7.1f", elapsed))s] \(message)\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// Like `say`, but at most once every `interval` (for counters updated in a loop).
    public func tick(_ message: @autoclosure () -> String, every interval: Duration = .seconds(2)) {
        guard enabled else { return }
        let now = ContinuousClock.now
        let due = lastLine.withLock { last -> Bool in
            if let last, now - last < interval { return false }
            last = now
            return true
        }
        if due { say(message()) }
    }
}
