import AccordIntegrity
import AccordStore
import Synchronization

/// What the projector knows about the integrity of what it applied, shared between the consuming
/// loop (which updates it after each committed batch) and the query API (`/v1/integrity`,
/// `/ready`): verified and provisional counts, checkpoints, and records it could not read.
/// Which events are provisional is read from the store, per answer.
public final class IntegrityStatus: Sendable {
    /// A consistent copy of the counts.
    public struct Snapshot: Sendable, Hashable {
        /// Whether records are checked against a key registry.
        public var checking: Bool
        /// Journaled events covered by a verified agency checkpoint.
        public var verified: Int
        /// Journaled events not (yet) covered by one.
        public var provisional: Int
        /// Journaled events taken back out of the view (orphans: forged or wrongly attributed).
        public var retracted: Int
        /// Verified agency checkpoints stored.
        public var chainCheckpoints: Int
        /// Signed journal checkpoints stored.
        public var journalCheckpoints: Int
        /// The most recent signed journal checkpoint.
        public var lastJournalCheckpoint: JournalCheckpoint?
        /// Ranges of records lost before the projector could read them.
        public var unread: [UnreadRange]
        /// Records in those ranges.
        public var unreadRecords: Int64 { unread.reduce(0) { $0 + $1.count } }
    }

    private let current: Mutex<Snapshot>

    /// Creates a status. With `checking` false nothing is ever verified, so every event is provisional.
    public init(checking: Bool = true,
                counts: IntegrityCounts = IntegrityCounts(verified: 0, provisional: 0, chainCheckpoints: 0, journalCheckpoints: 0),
                unread: [UnreadRange] = [], lastJournalCheckpoint: JournalCheckpoint? = nil) {
        current = Mutex(Snapshot(checking: checking, verified: counts.verified, provisional: counts.provisional,
                                 retracted: counts.retracted, chainCheckpoints: counts.chainCheckpoints, journalCheckpoints: counts.journalCheckpoints,
                                 lastJournalCheckpoint: lastJournalCheckpoint, unread: unread))
    }

    /// The current counts.
    public func snapshot() -> Snapshot {
        current.withLock { $0 }
    }

    /// Takes in what a committed batch changed.
    func record(_ commit: StoreCommit, chainCheckpoints: Int, unread: [UnreadRange]) {
        current.withLock { current in
            let verified = commit.newlyVerified.count
            current.verified += verified
            current.provisional += commit.appended.count - verified - commit.retracted.count
            current.retracted += commit.retracted.count
            current.chainCheckpoints += chainCheckpoints
            current.unread += unread
            if let checkpoint = commit.journalCheckpoint {
                current.journalCheckpoints += 1
                current.lastJournalCheckpoint = checkpoint
            }
        }
    }
}
