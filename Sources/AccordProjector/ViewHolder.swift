import AccordEvents
import AccordProjection
import Synchronization

/// The live projection state shared between the consuming loop (which replaces it after
/// each committed batch) and the query API (which reads consistent snapshots).
public final class ViewHolder: Sendable {
    private struct Current {
        var state: ProjectionState
        var latestEventTime: Timestamp?
        var caughtUp: Bool
    }
    private let current: Mutex<Current>

    /// Creates a holder with `state`, whose latest event happened at `latestEventTime`.
    public init(_ state: ProjectionState = ProjectionState(), latestEventTime: Timestamp? = nil) {
        current = Mutex(Current(state: state, latestEventTime: latestEventTime, caughtUp: false))
    }

    /// A consistent copy of the current state (copy-on-write, cheap).
    public func snapshot() -> ProjectionState {
        current.withLock { $0.state }
    }

    /// The time of the latest event (by event time) in the view, if any.
    public var latestEventTime: Timestamp? {
        current.withLock { $0.latestEventTime }
    }

    /// Installs the state of a committed batch.
    public func replace(_ state: ProjectionState, latestEventTime: Timestamp?) {
        current.withLock {
            $0.state = state
            $0.latestEventTime = latestEventTime
        }
    }

    /// Whether the projector has caught up with the end of every partition at least once.
    public var caughtUp: Bool {
        get { current.withLock { $0.caughtUp } }
    }

    /// Records whether the projector is caught up.
    public func setCaughtUp(_ value: Bool) {
        current.withLock { $0.caughtUp = value }
    }
}
