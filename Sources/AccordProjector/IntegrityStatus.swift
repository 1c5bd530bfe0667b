import AccordEvents
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
        /// Ranges of records lost before the projector could read them, and not recovered from their sources.
        public var unread: [UnreadRange]
        /// Records in those ranges.
        public var unreadRecords: Int64 { unread.reduce(0) { $0 + $1.count } }
        /// Chains waiting for missing events from their sources, their later records held.
        public var pendingChains: [PendingChain] = []
        /// Events fetched from the sources' chain ranges and applied since the projector started.
        public var backfilled: Int = 0

        /// One flag per source with a chain whose gap its source cannot fill: unreachable for
        /// longer than the projector waits, no endpoint, or the range past its retention.
        public var sourceFlags: [SourceFlag] {
            var bySource: [String: SourceFlag] = [:]
            for pending in pendingChains where pending.flagged {
                var flag = bySource[pending.chain.source]
                    ?? SourceFlag(source: pending.chain.source, chains: [], held: 0, since: nil, reason: pending.lastError ?? "")
                flag.chains.append(pending.chain)
                flag.held += pending.held
                if let since = pending.failingSince, flag.since.map({ since < $0 }) ?? true { flag.since = since }
                bySource[pending.chain.source] = flag
            }
            return bySource.values.sorted { $0.source < $1.source }
        }
    }

    /// A source whose chains have gaps it does not fill: the events missing from them, and the
    /// records held behind them, wait until the source serves them again or an operator acts.
    public struct SourceFlag: Sendable, Hashable {
        /// The source (`urn:accord:<kind>:<agency>`).
        public var source: String
        /// Its chains with gaps that cannot be filled now.
        public var chains: [ChainID]
        /// Records held behind those gaps.
        public var held: Int
        /// When fetching first failed, for the longest-failing chain.
        public var since: Timestamp?
        /// Why the last attempt failed.
        public var reason: String
    }

    /// A chain waiting for events missing from it.
    public struct PendingChain: Sendable, Hashable {
        /// The chain.
        public var chain: ChainID
        /// How the gap showed.
        public var cause: ChainGap.Cause
        /// Records of the chain held behind the gap.
        public var held: Int
        /// Why the last attempt to fetch the missing events failed, nil before one failed.
        public var lastError: String?
        /// False when no attempt can succeed without an operator (no endpoint for the source,
        /// or the range is past its retention).
        public var retrying: Bool
        /// When fetching the missing events first failed (nil before a failure, and after a success).
        public var failingSince: Timestamp? = nil
        /// Whether a flag is raised on the source: fetching has failed for longer than the
        /// projector waits (`sourceFlagAfter`), or cannot succeed without an operator.
        public var flagged: Bool = false
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

    /// Replaces the list of pending chains (after a batch or a backfill attempt).
    func setPending(_ chains: [PendingChain], backfilled: Int = 0) {
        current.withLock {
            $0.pendingChains = chains
            $0.backfilled += backfilled
        }
    }

    /// Takes in what a committed batch changed.
    func record(_ commit: StoreCommit, chainCheckpoints: Int, unread: [UnreadRange], recovered: [UnreadRecovery] = []) {
        current.withLock { current in
            let verified = commit.newlyVerified.count
            current.verified += verified
            current.provisional += commit.appended.count - verified - commit.retracted.count
            current.retracted += commit.retracted.count
            current.chainCheckpoints += chainCheckpoints
            current.unread += unread
            for recovery in recovered {
                current.unread.removeAll { $0.topic == recovery.topic && $0.partition == recovery.partition }
            }
            if let checkpoint = commit.journalCheckpoint {
                current.journalCheckpoints += 1
                current.lastJournalCheckpoint = checkpoint
            }
        }
    }
}
