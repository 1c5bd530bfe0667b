import AccordEvents
import AccordProjection
import AccordService
import AccordTestSupport
import Testing

// Issue 8, item 5: the agency services' reactions come from the same rules as the view. Over a
// simulated year (no broker), every probation office's enforcement worklist and every provider's
// referral worklist, fed the events as the services consume them, are compared with the open flags
// the projection's query path shows for the same events at the same instant; so are the
// commissioners' contract alerts.

@Suite("Reactions agree with the view's flags over a simulated year")
struct WorklistAgreementTests {
    @Test("overdue worklist items and contract alerts are exactly the open flags charged to the agency, at every month")
    func worklistsAreTheOpenFlags() throws {
        let events = try SimulatedEvents.make(cases: 150, seed: 2025, lateEvery: 11, lateness: 3 * 86_400)
        var state = ProjectionState()
        var offices: [EventSource: EnforcementWorklist] = [:]
        var providers: [EventSource: ReferralWorklist] = [:]
        let alerts = try ProjectionContractAlertSource()
        var commissionerOf: [String: String] = [:]
        for (event, _) in events {
            switch event.source.kind {
            case .probation where offices[event.source] == nil: offices[event.source] = try EnforcementWorklist(source: event.source)
            case .interventions where providers[event.source] == nil: providers[event.source] = try ReferralWorklist(source: event.source)
            default: break
            }
        }
        // The reactions take the events in batches, as the services' consumers do.
        for start in stride(from: 0, to: events.count, by: 250) {
            let batch = events[start..<min(start + 250, events.count)].map { IncomingEvent($0.0, recordedAt: $0.1) }
            for worklist in offices.values { try worklist.apply(batch) }
            for worklist in providers.values { try worklist.apply(batch) }
            try alerts.apply(batch)
        }
        for (event, recordedAt) in events {
            state.apply(event, recordedAt: recordedAt)
            if case .commissioning(.contractAwarded(let award)) = event.payload { commissionerOf[award.contractId] = award.commissionerId }
        }
        #expect(offices.count >= 2 && providers.count >= 2)
        let first = try #require(events.map(\.0.time).min())
        var compared = (enforcement: 0, referrals: 0, pendingNotDue: 0, alerts: 0)
        for month in 1...13 {
            let asOf = try #require(first.adding(seconds: Int64(month) * 28 * 86_400))
            for (source, worklist) in offices {
                let items = try worklist.items(asOf: asOf)
                let flags = state.flags(asOf: asOf, filter: FlagFilter(accountable: source.urn, rule: .enforcementDecisionOverdue,
                                                                       openOnly: true))
                let overdue = Set(items.filter(\.overdue).map { "\($0.caseId)|\($0.eventId)" })
                let open = Set(flags.map { "\($0.subject)|\($0.eventIds.first ?? "?")" })
                #expect(overdue == open, "enforcement worklist of \(source.urn) at \(asOf)")
                for item in items where !item.overdue {
                    let due = Timestamp(rfc3339: item.decideBy)
                    #expect(due.map { $0 >= asOf } == true, "an item not overdue is not due yet: \(item.caseId) \(item.eventId)")
                }
                compared.enforcement += open.count
                compared.pendingNotDue += items.count - overdue.count
            }
            for (source, worklist) in providers {
                let items = try worklist.items(asOf: asOf)
                let flags = state.flags(asOf: asOf, filter: FlagFilter(accountable: source.urn, rule: .referralUnanswered,
                                                                       openOnly: true))
                let overdue = Set(items.filter(\.overdue).map { "\($0.caseId)|\($0.referralId)" })
                let open = Set(flags.map { "\($0.subject)|\($0.referralId ?? "?")" })
                #expect(overdue == open, "referral worklist of \(source.urn) at \(asOf)")
                compared.referrals += open.count
                compared.pendingNotDue += items.count - overdue.count
            }
            for commissioner in Set(commissionerOf.values) {
                let shown = Set(try alerts.alerts(commissionerId: commissioner, asOf: asOf).map { "\($0.contractId)|\($0.since ?? "?")" })
                let open = Set(state.flags(asOf: asOf, filter: FlagFilter(rule: .contractBelowServiceLevel, openOnly: true))
                    .filter { commissionerOf[$0.subject] == commissioner }.map { "\($0.subject)|\($0.since.rfc3339)" })
                #expect(shown == open, "contract alerts of \(commissioner) at \(asOf)")
                compared.alerts += open.count
            }
        }
        // The comparison is not vacuous: both worklists had overdue items, and some not yet due.
        #expect(compared.enforcement > 0)
        #expect(compared.referrals > 0)
        #expect(compared.pendingNotDue > 0)
        #expect(compared.alerts > 0)
    }
}
