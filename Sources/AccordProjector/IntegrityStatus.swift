import AccordIntegrity
import AccordStore
import Synchronization

/// What the projector knows about the integrity of the events it applied, shared between the
/// consuming loop (which updates it after each committed batch) and the query API (timeline
/// entries' `provisional` flag, `/v1/integrity`).
public final class IntegrityStatus: Sendable {
    /// A consistent copy of the counts.
    public struct Snapshot: Sendable, Hashable {
        /// Whether records are checked against a key registry.
        public var checking: Bool
        /// Journaled events covered by a verified agency checkpoint.
        public var verified: Int
        /// Journaled events not (yet) covered by one.
        public var provisional: Int
        /// Verified agency checkpoints stored.
        public var chainCheckpoints: Int
        /// Signed journal checkpoints stored.
        public var journalCheckpoints: Int
        /// The most recent signed journal checkpoint.
        public var lastJournalCheckpoint: JournalCheckpoint?
    }

    private struct Current {
        var snapshot: Snapshot
        var provisionalIds: Set<String>
    }
    private let current: Mutex<Current>

    /// Creates a status. With `checking` false nothing is ever verified, so every event is
    /// provisional; with `checking` true only the events in `provisionalIds` are.
    public init(checking: Bool = true, counts: IntegrityCounts = IntegrityCounts(verified: 0, provisional: 0, chainCheckpoints: 0, journalCheckpoints: 0),
                provisionalIds: some Sequence<String> = [String](), lastJournalCheckpoint: JournalCheckpoint? = nil) {
        current = Mutex(Current(
            snapshot: Snapshot(checking: checking, verified: counts.verified, provisional: counts.provisional,
                               chainCheckpoints: counts.chainCheckpoints, journalCheckpoints: counts.journalCheckpoints,
                               lastJournalCheckpoint: lastJournalCheckpoint),
            provisionalIds: checking ? Set(provisionalIds.lazy.map { $0.lowercased() }) : []))
    }

    /// Whether the event is not (yet) covered by a verified checkpoint.
    public func isProvisional(eventId: String) -> Bool {
        current.withLock { !$0.snapshot.checking || $0.provisionalIds.contains(eventId.lowercased()) }
    }

    /// The current counts.
    public func snapshot() -> Snapshot {
        current.withLock { $0.snapshot }
    }

    /// Takes in what a committed batch changed.
    func record(_ commit: StoreCommit, chainCheckpoints: Int) {
        current.withLock { current in
            let newlyVerified = Set(commit.newlyVerified.lazy.map { $0.lowercased() })
            for entry in commit.appended where current.snapshot.checking {
                let id = entry.eventId.lowercased()
                if !newlyVerified.contains(id) { current.provisionalIds.insert(id) }
            }
            for id in newlyVerified { current.provisionalIds.remove(id) }
            current.snapshot.verified += newlyVerified.count
            current.snapshot.provisional += commit.appended.count - newlyVerified.count
            current.snapshot.chainCheckpoints += chainCheckpoints
            if let checkpoint = commit.journalCheckpoint {
                current.snapshot.journalCheckpoints += 1
                current.snapshot.lastJournalCheckpoint = checkpoint
            }
        }
    }
}
