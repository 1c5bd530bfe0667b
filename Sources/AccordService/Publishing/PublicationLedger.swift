import AccordEvents
import Foundation
import Synchronization

/// What this service has published under its source: the highest sequence number used and, per
/// event id, the acknowledgement (for idempotent retries and `GET /v1/events/{id}`).
///
/// Filled from the agency's own topic at startup, then from every acknowledged publication.
final class PublicationLedger: Sendable {
    struct Entry: Sendable {
        var acknowledgement: Acknowledgement
        var kind: EventKind
        /// Hash of the payload, to tell a true retry from a different event reusing an id.
        var payloadHash: Int
    }

    private struct State {
        var lastSequence: Int64 = 0
        var entries: [UUID: Entry] = [:]
    }
    private let state = Mutex(State())

    /// The highest sequence number used so far (0 when none).
    var lastSequence: Int64 { state.withLock { $0.lastSequence } }

    /// Number of published events known.
    var count: Int { state.withLock { $0.entries.count } }

    /// Notes that `sequence` was used (by a record on the topic, or allocated by this run).
    func noteSequence(_ sequence: Int64) {
        state.withLock { $0.lastSequence = max($0.lastSequence, sequence) }
    }

    /// Reserves `count` consecutive sequence numbers and returns the first.
    func allocate(_ count: Int) -> Int64 {
        state.withLock { state in
            let first = state.lastSequence + 1
            state.lastSequence += Int64(count)
            return first
        }
    }

    /// Records an acknowledged event.
    func record(_ event: AccordEvent, acknowledgement: Acknowledgement) {
        let entry = Entry(acknowledgement: acknowledgement, kind: event.kind, payloadHash: event.payload.hashValue)
        state.withLock { state in
            state.entries[event.id] = entry
            state.lastSequence = max(state.lastSequence, event.sequence)
        }
    }

    /// The entry for `id`, if this source published it.
    func entry(_ id: UUID) -> Entry? {
        state.withLock { $0.entries[id] }
    }
}
