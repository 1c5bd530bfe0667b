import AccordEvents
import Synchronization

/// A referral waiting for this provider's answer.
public struct ReferralWorkItem: Sendable, Hashable, Codable {
    /// The referral.
    public var referralId: String
    /// The case referred.
    public var caseId: String
    /// The contract the referral is made under.
    public var contractId: String
    /// What is asked for.
    public var interventionType: String
    /// The probation agency that referred (its source URN).
    public var referredBy: String
    /// When the referral was made (the referral event's time).
    public var referredAt: String
    /// The date the intervention is due by.
    public var dueBy: String
    /// When the provider must answer: referral time plus the contract's
    /// `serviceLevels.referralResponseDays`, or plus 5 days when the contract is unknown.
    public var respondBy: String
    /// Response days used for `respondBy`.
    public var responseDays: Int
    /// Whether `responseDays` comes from the contract (false: the 5-day default).
    public var contractKnown: Bool
}

/// The interventions service's worklist: referrals addressed to this provider that it has not yet
/// accepted or declined with its own events, oldest first.
public final class ReferralWorklist: ReactionModel {
    /// Response days used when the contract is not known from the commissioning topic.
    public static let defaultResponseDays = 5

    private struct Referral: Sendable {
        var data: InterventionReferred
        var time: Timestamp
        var source: String
    }
    private struct Terms: Sendable {
        var awardedDays: Int?
        /// Variations with service levels, by event id: (time, id) orders them.
        var variations: [String: (time: Timestamp, days: Int)] = [:]

        var responseDays: Int? {
            let latest = variations.max { ($0.value.time, $0.key) < ($1.value.time, $1.key) }
            return latest?.value.days ?? awardedDays
        }
    }
    private struct State {
        var referrals: [String: Referral] = [:]
        var answered: Set<String> = []
        var terms: [String: Terms] = [:]
    }

    /// This provider.
    public let source: EventSource
    private let state = Mutex(State())

    /// Creates an empty worklist for the provider `source`.
    public init(source: EventSource) {
        self.source = source
    }

    /// Takes one event into account (`recordedAt` is not needed).
    public func apply(_ event: AccordEvent, recordedAt: Timestamp) {
        switch event.payload {
        case .probation(.interventionReferred(let data)) where data.providerId == source.agencyId:
            state.withLock { $0.referrals[data.referralId] = Referral(data: data, time: event.time, source: event.source.urn) }
        case .interventions(.referralAccepted(let data)) where event.source == source:
            state.withLock { _ = $0.answered.insert(data.referralId) }
        case .interventions(.referralDeclined(let data)) where event.source == source:
            state.withLock { _ = $0.answered.insert(data.referralId) }
        case .commissioning(.contractAwarded(let data)):
            state.withLock { $0.terms[data.contractId, default: Terms()].awardedDays = data.serviceLevels.referralResponseDays }
        case .commissioning(.contractVaried(let data)):
            guard let levels = data.serviceLevels else { return }
            state.withLock {
                $0.terms[data.contractId, default: Terms()].variations[event.idString] = (event.time, levels.referralResponseDays)
            }
        default:
            return
        }
    }

    /// The open referrals, oldest first.
    public func items() -> [ReferralWorkItem] {
        state.withLock { state in
            state.referrals.values
                .filter { !state.answered.contains($0.data.referralId) }
                .sorted { ($0.time, $0.data.referralId) < ($1.time, $1.data.referralId) }
                .map { referral in
                    let known = state.terms[referral.data.contractId]?.responseDays
                    let days = known ?? Self.defaultResponseDays
                    return ReferralWorkItem(
                        referralId: referral.data.referralId, caseId: referral.data.caseId,
                        contractId: referral.data.contractId, interventionType: referral.data.interventionType.rawValue,
                        referredBy: referral.source, referredAt: referral.time.rfc3339,
                        dueBy: referral.data.dueBy.description, respondBy: referral.time.plusDays(days).rfc3339,
                        responseDays: days, contractKnown: known != nil)
                }
        }
    }
}
