import AccordEvents
import Foundation
import Synchronization

/// A non-compliance reported by a provider on one of this probation agency's cases that still
/// awaits an enforcement decision.
public struct EnforcementWorkItem: Sendable, Hashable, Codable {
    /// The case.
    public var caseId: String
    /// What happened: `curfew-violation-detected` or `appointment-missed`.
    public var event: String
    /// The provider's event id (what a compliance failure's `relatedEventId` points at).
    public var eventId: String
    /// When it happened: the violation's `detectedAt`, or the missed appointment event's time.
    public var occurredAt: String
    /// The provider that reported it.
    public var providerId: String
    /// The referral it happened under.
    public var referralId: String
    /// A short description, e.g. `curfew violation CV-7 (45 minutes)`.
    public var summary: String
    /// When the decision is due: `occurredAt` plus 7 days.
    public var decideBy: String
}

/// The probation service's enforcement worklist: curfew violations and unacceptable missed
/// appointments (from the interventions topic) on cases this agency opened, with no enforcement
/// action by this agency that settles them, oldest first.
///
/// An enforcement action on the case settles an incident when one of its `failureIds` names a
/// compliance failure whose `relatedEventId` is the incident's event. Otherwise, an action taken at
/// or after the incident settles it unless its failures are linked (by `relatedEventId` or
/// `referralId`) only to other incidents or referrals.
public final class EnforcementWorklist: ReactionModel {
    /// Days allowed for an enforcement decision.
    public static let decisionDays = 7

    private struct Incident: Sendable {
        var caseId: String
        var event: String
        var eventId: UUID
        var occurredAt: Timestamp
        var providerId: String
        var referralId: String
        var summary: String
    }
    private struct Failure: Sendable {
        var relatedEventId: UUID?
        var referralId: String?
    }
    private struct Action: Sendable {
        var caseId: String
        var time: Timestamp
        var failureIds: [String]
    }
    private struct State {
        var ownCases: Set<String> = []
        var incidents: [UUID: Incident] = [:]
        var failures: [String: Failure] = [:]
        var actions: [UUID: Action] = [:]
    }

    /// This probation agency.
    public let source: EventSource
    private let state = Mutex(State())

    /// Creates an empty worklist for the probation agency `source`.
    public init(source: EventSource) {
        self.source = source
    }

    /// Takes one event into account (`recordedAt` is not needed).
    public func apply(_ event: AccordEvent, recordedAt: Timestamp) {
        switch event.payload {
        case .probation(.caseOpened(let data)) where event.source == source:
            state.withLock { _ = $0.ownCases.insert(data.caseId) }
        case .probation(.complianceFailureRecorded(let data)) where event.source == source:
            state.withLock { $0.failures[data.failureId] = Failure(relatedEventId: data.relatedEventId, referralId: data.referralId) }
        case .probation(.enforcementActionTaken(let data)) where event.source == source:
            state.withLock { $0.actions[event.id] = Action(caseId: data.caseId, time: event.time, failureIds: data.failureIds) }
        case .interventions(.curfewViolationDetected(let data)):
            let incident = Incident(caseId: data.caseId, event: EventKind.curfewViolationDetected.name, eventId: event.id,
                                    occurredAt: data.detectedAt, providerId: data.providerId, referralId: data.referralId,
                                    summary: "curfew violation \(data.violationId) (\(data.durationMinutes) minutes)")
            state.withLock { $0.incidents[event.id] = incident }
        case .interventions(.appointmentMissed(let data)) where !data.acceptable:
            let incident = Incident(caseId: data.caseId, event: EventKind.appointmentMissed.name, eventId: event.id,
                                    occurredAt: event.time, providerId: data.providerId, referralId: data.referralId,
                                    summary: "unacceptable absence from appointment \(data.appointmentId): \(data.reason)")
            state.withLock { $0.incidents[event.id] = incident }
        default:
            return
        }
    }

    /// The incidents awaiting a decision, oldest first.
    public func items() -> [EnforcementWorkItem] {
        state.withLock { state in
            let actionsByCase = Dictionary(grouping: state.actions.values, by: \.caseId)
            return state.incidents.values
                .filter { state.ownCases.contains($0.caseId) }
                .filter { incident in
                    !(actionsByCase[incident.caseId] ?? []).contains { Self.settles($0, incident, failures: state.failures) }
                }
                .sorted { ($0.occurredAt, $0.eventId.uuidString) < ($1.occurredAt, $1.eventId.uuidString) }
                .map { incident in
                    EnforcementWorkItem(
                        caseId: incident.caseId, event: incident.event, eventId: incident.eventId.uuidString.lowercased(),
                        occurredAt: incident.occurredAt.rfc3339, providerId: incident.providerId,
                        referralId: incident.referralId, summary: incident.summary,
                        decideBy: incident.occurredAt.plusDays(Self.decisionDays).rfc3339)
                }
        }
    }

    private static func settles(_ action: Action, _ incident: Incident, failures: [String: Failure]) -> Bool {
        let linked = action.failureIds.compactMap { failures[$0] }
        if linked.contains(where: { $0.relatedEventId == incident.eventId }) { return true }
        guard action.time >= incident.occurredAt else { return false }
        // Failures the action names but this agency's records do not link anywhere: fall back to time.
        let unlinked = action.failureIds.count > linked.count
            || linked.contains { $0.relatedEventId == nil && $0.referralId == nil }
        if action.failureIds.isEmpty || unlinked { return true }
        // Every named failure is linked: settle only what they point at.
        return linked.contains { $0.relatedEventId == nil && $0.referralId == incident.referralId }
    }
}
