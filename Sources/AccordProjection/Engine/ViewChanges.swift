import AccordEvents
import AccordIntegrity
import Foundation

/// A change to one stored item: what it was before the batch and what it is after (nil: absent).
public struct Change<Value: Sendable & Hashable>: Sendable, Hashable {
    /// Before the batch.
    public var old: Value?
    /// After the batch.
    public var new: Value?

    /// Creates a change.
    public init(old: Value?, new: Value?) {
        self.old = old
        self.new = new
    }
}

/// Everything one batch changed in the view, for the store to write in the batch's transaction.
/// Produced by `ProjectionEngine.apply`; contains no I/O and no clock.
public struct ViewChanges: Sendable {
    /// Facts new to cases (each stored as its own row).
    public var caseFacts: [Fact] = []
    /// Facts taken out of cases by a retraction (their rows are deleted).
    public var removedCaseFacts: [RemovedFact] = []
    /// Contracts, areas and sources left with no facts (or no sequence numbers) by a retraction:
    /// their stored states are deleted.
    public var removedStates: Set<SubjectKey> = []
    /// New states of contracts.
    public var contractStates: [String: [UInt8]] = [:]
    /// New states of areas.
    public var areaStates: [String: [UInt8]] = [:]
    /// New states of sources, by URN.
    public var sourceStates: [String: [UInt8]] = [:]
    /// Flags of cases and contracts added, changed or removed, by flag id. Sequence-gap flags are
    /// not here: readers derive them from the sources' states (`SourceSequence.flagRecords()`).
    public var flags: [String: Change<FlagRecord>] = [:]
    /// Referral rows added, changed or removed, by (case id, referral id).
    public var referrals: [ReferralKey: Change<ReferralRow>] = [:]
    /// Case summaries changed, by case id.
    public var summaries: [String: Change<CaseSummary>] = [:]
    /// Contracts whose listing (area, provider, end) changed, by contract id; nil: no longer in the view.
    public var contracts: [String: ContractSummary?] = [:]
    /// Subjects whose record may have changed: their digest leaves are stale until computed
    /// (`ProjectionEngine.leaves(for:from:)`), at the next checkpoint.
    public var dirty: Set<SubjectKey> = []
    /// The latest event time applied in the batch.
    public var latestEventTime: Timestamp?
    /// Facts applied (events new to the view).
    public var applied = 0

    /// Creates an empty change set.
    public init() {}

    /// Whether nothing changed.
    public var isEmpty: Bool {
        caseFacts.isEmpty && removedCaseFacts.isEmpty && removedStates.isEmpty && contractStates.isEmpty && areaStates.isEmpty && sourceStates.isEmpty && flags.isEmpty
            && referrals.isEmpty && summaries.isEmpty && contracts.isEmpty && dirty.isEmpty
    }
}

/// A fact taken out of a case's facts: its case and event id.
public struct RemovedFact: Sendable, Hashable {
    /// The case.
    public var caseId: String
    /// The event.
    public var eventId: UUID

    /// Creates a removed fact.
    public init(caseId: String, eventId: UUID) {
        self.caseId = caseId
        self.eventId = eventId
    }
}

/// Identifies a referral row.
public struct ReferralKey: Sendable, Hashable, Comparable {
    /// The case.
    public var caseId: String
    /// The referral.
    public var referralId: String

    /// Creates a key.
    public init(caseId: String, referralId: String) {
        self.caseId = caseId
        self.referralId = referralId
    }

    /// Case id, then referral id.
    public static func < (a: ReferralKey, b: ReferralKey) -> Bool { (a.caseId, a.referralId) < (b.caseId, b.referralId) }
}

/// What an area summary lists of a contract.
public struct ContractSummary: Sendable, Hashable {
    /// The area covered (nil when not awarded in the view).
    public var area: String?
    /// The provider.
    public var providerId: String?
    /// What it buys.
    public var interventionType: InterventionType?
    /// When it stopped being in force.
    public var endedAt: Timestamp?

    /// Creates a summary.
    public init(area: String?, providerId: String?, interventionType: InterventionType?, endedAt: Timestamp?) {
        self.area = area
        self.providerId = providerId
        self.interventionType = interventionType
        self.endedAt = endedAt
    }
}

extension ContractRecord {
    /// What an area summary lists of the contract.
    public var summary: ContractSummary {
        ContractSummary(area: terms?.area, providerId: terms?.providerId, interventionType: terms?.interventionType,
                        endedAt: endedAt)
    }
}
