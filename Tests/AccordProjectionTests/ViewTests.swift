import AccordEvents
import AccordProjection
import AccordTestSupport
import Foundation
import Testing

@Suite("Views")
struct ViewTests {
    /// A case through its whole life, across all four agencies.
    static func lifeOfACase(_ f: Feed) -> [AccordEvent] {
        [
            f.awarded(maxRisk: .high),
            f.opened(at: day(0), risk: .medium, requirements: [.unpaidWork(hours: 60), .curfew(hoursPerDay: 8, duration: .months(3))]),
            f.allocated(at: day(1), practitioner: "PR-7", team: "north-team-2"),
            f.referred(at: day(1)),
            f.referred("X000001", "REF-2", contract: "CT-0002", type: .curfewMonitoring, at: day(1.5)),
            f.accepted(at: day(2)),
            f.declined("X000001", "REF-2", at: day(2.5)),
            f.started(at: day(3)),
            f.attended(at: day(4)),
            f.hours("X000001", "REF-1", 7.5, at: day(4)),
            f.missed(acceptable: true, at: day(5)),
            f.missed(appointment: "AP-3", acceptable: false, at: day(6)),
            f.failure("CF-1", at: day(6.5)),
            f.action(.warning, failures: ["CF-1"], at: day(7)),
            f.risk(.high, at: day(8)),
            f.hours("X000001", "REF-1", 4, at: day(9)),
            f.transferred(from: "london-north", to: "london-south", practitioner: "PR-9", at: day(10)),
            f.reoffence(offence: "2025-03-15", at: day(20)),
            f.completed(at: day(30)),
            f.closed("X000001", .completed, at: day(40)),
        ]
    }

    @Test func caseViewFields() throws {
        let f = Feed()
        let s = given(Self.lifeOfACase(f))
        let mid = try #require(s.at(day(9.5)).caseView())
        #expect(mid.status == .open)
        #expect(mid.order?.orderType == .communityOrder)
        #expect(mid.order?.requirements.count == 2)
        #expect(mid.order?.openedBy == probationURN)
        #expect(mid.area == "london-north")
        #expect(mid.practitioner?.practitionerId == "PR-7")
        #expect(mid.practitioner?.team == "north-team-2")
        #expect(mid.riskLevel == .high)
        #expect(mid.riskHistory.map(\.riskLevel) == [.medium, .high])
        #expect(mid.interventions.map(\.referralId) == ["REF-1", "REF-2"])
        let ref1 = mid.interventions[0]
        #expect(ref1.status == .inProgress)
        #expect(ref1.contractId == "CT-0001")
        #expect(ref1.referredAt == day(1))
        #expect(ref1.acceptedAt == day(2))
        #expect(ref1.startedAt == day(3))
        #expect(ref1.riskAtReferral == .medium)
        #expect(ref1.appointmentsAttended == 1)
        #expect(ref1.appointmentsMissedAcceptable == 1)
        #expect(ref1.appointmentsMissedUnacceptable == 1)
        #expect(ref1.unpaidWorkHoursLogged == 11.5)
        #expect(ref1.unpaidWorkHoursRequired == 60)
        let ref2 = mid.interventions[1]
        #expect(ref2.status == .declined)
        #expect(ref2.declineReason == "No capacity")
        #expect(ref2.unpaidWorkHoursRequired == nil)
        #expect(mid.complianceFailures.map(\.failureId) == ["CF-1"])
        #expect(mid.enforcementActions.map(\.action) == [.warning])
        #expect(mid.openFlags.isEmpty)

        let end = try #require(s.at(day(50)).caseView())
        #expect(end.status == .closed)
        #expect(end.outcome == .completed)
        #expect(end.closedAt == day(40))
        #expect(end.area == "london-south")
        #expect(end.practitioner?.practitionerId == "PR-9")
        #expect(end.transfers.count == 1)
        #expect(end.provenReoffences.map(\.offenceCategory) == ["theft"])
        #expect(end.interventions[0].status == .completed)
        #expect(end.interventions[0].completedAt == day(30))
        #expect(end.eventCount == 19)
        #expect(s.at(day(-1)).caseView() == nil)
    }

    @Test func caseViewJSONIsStableAndCamelCase() throws {
        let f = Feed()
        let view = try #require(given(Self.lifeOfACase(f)).at(day(50)).caseView())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = String(decoding: try encoder.encode(view), as: UTF8.self)
        #expect(json.contains(#""caseId":"X000001""#))
        #expect(json.contains(#""closedAt":"2025-04-12T09:00:00Z""#))
        #expect(json.contains(#""startDate":"2025-03-03""#))
        #expect(json.contains(#""status":"in-progress""#) == false)
        #expect(json.contains(#""unpaidWorkHoursLogged":11.5"#))
        let decoded = try JSONDecoder().decode(CaseView.self, from: Data(json.utf8))
        #expect(decoded == view)
    }

    @Test func timelineMergesAgenciesInCanonicalOrder() {
        let f = Feed()
        let events = Self.lifeOfACase(f)
        // Read the provider's topic before probation's: the timeline must not care.
        let providerFirst = events.filter { $0.source.kind != .probation } + events.filter { $0.source.kind == .probation }
        let timeline = given(providerFirst).at(day(50)).timeline()
        #expect(timeline.count == 19)
        #expect(timeline.map(\.time) == timeline.map(\.time).sorted())
        #expect(timeline.first?.type == "case-opened")
        #expect(timeline.first?.agency == .probation)
        #expect(Set(timeline.map(\.agency)) == [.probation, .interventions, .commissioner])
        // Same instant (day 4): probation < interventions by source URN, then sequence.
        let dayFour = timeline.filter { $0.time == day(4) }
        #expect(dayFour.map(\.type) == ["appointment-attended", "unpaid-work-hours-logged"])
        #expect(timeline.contains { $0.summary == "Referral declined by ace-payback: No capacity" && $0.referralId == "REF-2" })
        #expect(timeline.last?.summary == "Case closed: completed")
        #expect(given(providerFirst).at(day(3.5)).timeline().count == 7)  // the contract award is not about the case
    }

    @Test func contractPerformanceAndPaymentByResults() throws {
        let f = Feed()
        // Price £1,000.00 (100,000p), 30% on completion. 4 referrals: 3 completed, 1 ended early,
        // one answered late (day 6 > 5), one started late (day 12 > 10).
        var events = [f.awarded(priceMinor: 100_000, share: 0.3, metric: .completion, responseDays: 5, startDays: 10,
                                minimumCompletion: 0.8)]
        for i in 0..<4 {
            let c = "X30000\(i)"
            events += [f.opened(c, at: day(0)), f.allocated(c, at: day(0)), f.referred(c, at: day(0))]
            events.append(f.accepted(c, at: day(i == 1 ? 6 : 1)))
            events.append(f.started(c, at: day(i == 2 ? 12 : (i == 1 ? 7 : 3))))
            events.append(i == 3 ? f.endedEarly(c, at: day(40)) : f.completed(c, at: day(40)))
        }
        events.append(f.reoffence("X300000", offence: "2025-05-01", at: day(70)))
        events.append(f.reoffence("X300001", offence: "2024-05-01", at: day(70)))  // before the contract period
        let p = try #require(given(events).at(day(80)).contract())
        #expect(p.status == .active)
        #expect(p.terms?.providerId == "ace-payback")
        #expect(p.counts.referrals == 4)
        #expect(p.counts.accepted == 4)
        #expect(p.counts.pending == 0)
        #expect(p.counts.answeredWithinLimit == 3)
        #expect(p.counts.startedWithinLimit == 3)
        #expect(p.counts.completed == 3)
        #expect(p.counts.endedEarly == 1)
        #expect(p.rates.responseWithinLimit == 0.75)
        #expect(p.rates.startWithinLimit == 0.75)
        #expect(p.rates.completion == 0.75)
        #expect(p.averageDaysToRespond == 9.0 / 4.0)  // (1 + 6 + 1 + 1) / 4
        #expect(p.averageDaysToStart == 25.0 / 4.0)  // (3 + 7 + 12 + 3) / 4
        #expect(p.provenReoffences == 1)
        #expect(p.serviceLevels.map(\.state) == [.insufficientData, .insufficientData, .insufficientData])
        // PbR: fixed = 100,000 × 0.7 = 70,000; outcome = 100,000 × 0.3 × 0.75 = 22,500; total 92,500.
        let pay = try #require(p.payment)
        #expect(pay.fixedPaymentMinor == 70_000)
        #expect(pay.outcomePaymentMinor == 22_500)
        #expect(pay.totalPaymentMinor == 92_500)
        #expect(pay.maximumOutcomePaymentMinor == 30_000)
        #expect(pay.currency == .gbp)
        #expect(pay.outcomeBasis == "3 of 4 outcomes completed")
    }

    @Test func paymentByResultsNoProvenReoffenceAndHalfEvenRounding() throws {
        let f = Feed()
        // Price 101p, half on outcome: fixed 50.5 → 50 (half-even); 2 completed cases, one reoffended
        // in the period: rate 0.5, outcome 101 × 0.5 × 0.5 = 25.25 → 25.
        var events = [f.awarded(priceMinor: 101, share: 0.5, metric: .noProvenReoffence)]
        for i in 0..<2 {
            let c = "X40000\(i)"
            events += [f.opened(c, at: day(0)), f.referred(c, at: day(0)), f.accepted(c, at: day(1)),
                       f.started(c, at: day(2)), f.completed(c, at: day(20))]
        }
        events.append(f.reoffence("X400001", offence: "2025-06-01", at: day(100)))
        let pay = try #require(given(events).at(day(120)).contract()?.payment)
        #expect(pay.fixedPaymentMinor == 50)
        #expect(pay.outcomeRate == 0.5)
        #expect(pay.outcomePaymentMinor == 25)
        #expect(pay.totalPaymentMinor == 75)
        // Before the reoffence: both clean, 101 × 0.5 × 1 = 50.5 → 50.
        let before = try #require(given(events).at(day(50)).contract()?.payment)
        #expect(before.outcomePaymentMinor == 50)
    }

    @Test func contractStatusVariationsAndUnknownContracts() throws {
        let f = Feed()
        let events = [f.awarded(), f.varied(at: day(1), price: Money(amountMinor: 5_000)), f.contractEnded(at: day(5)),
                      f.opened(at: day(0)), f.referred(contract: "CT-0009", at: day(0))]
        let s = given(events)
        let during = try #require(s.at(day(2)).contract())
        #expect(during.status == .active)
        #expect(during.terms?.price.amountMinor == 5_000)
        #expect(during.variations.map(\.changed) == [["price"]])
        #expect(s.at(day(6)).contract()?.status == .ended)
        #expect(s.at(day(6)).contract()?.endReason == "Terminated early")
        let unknown = try #require(s.at(day(1)).contract("CT-0009"))
        #expect(unknown.status == .unknown)
        #expect(unknown.payment == nil)
        #expect(unknown.counts.referrals == 1)
        #expect(s.at(day(1)).contract("CT-7777") == nil)
        #expect(s.state.contractIds(asOf: day(1)) == ["CT-0001", "CT-0009"])
    }

    @Test func areaSummary() {
        let f = Feed()
        let events = [
            f.awarded(area: "london-north"),
            f.awarded("CT-0002", area: "wales"),
            f.opened("X000001", at: day(0), risk: .high),
            f.opened("X000002", at: day(0), risk: .low, order: .licence),
            f.allocated("X000002", at: day(1)),
            f.opened("X000003", at: day(0), risk: .low),
            f.allocated("X000003", at: day(1)),
            f.closed("X000003", at: day(2)),
            f.opened("X000004", at: day(0), area: "london-south"),
            f.allocated("X000004", at: day(1)),
            f.transferred("X000004", from: "london-south", to: "london-north", at: day(3)),
            f.priority("london-north", "knife-crime", at: day(1)),
            f.priority("london-north", "domestic-abuse", at: day(2)),
            f.priority("london-north", "knife-crime", at: day(4)),
            f.reoffence("X000002", at: day(5)),
        ]
        given(events).at(day(10)).then { v in
            let a = v.area("london-north")
            #expect(a.casesOpen == 3)
            #expect(a.casesClosed == 1)
            #expect(a.openCasesByRiskLevel.map { "\($0.key)=\($0.count)" } == ["high=1", "low=1", "medium=1"])
            #expect(a.openCasesByOrderType.map { "\($0.key)=\($0.count)" } == ["community-order=2", "licence=1"])
            #expect(a.unallocatedCases == ["X000001"])
            #expect(a.openFlagsByRule.map { "\($0.key)=\($0.count)" } == ["case-unallocated=1"])
            #expect(a.openFlagsByAgency.map { "\($0.accountable)=\($0.count)" } == ["\(probationURN)=1"])
            #expect(a.openFlagsByAgency.first?.kind == .probation)
            #expect(a.contracts.map(\.contractId) == ["CT-0001"])
            #expect(a.localPriorities.map(\.priority) == ["domestic-abuse", "knife-crime"])
            #expect(a.localPriorities.last?.setAt == day(4))
            #expect(a.provenReoffences == 1)
            #expect(v.area("london-south").casesOpen == 0)
            #expect(v.state.areas(asOf: day(10)) == ["london-north", "wales"])
        }
    }

    @Test func flagFilterByAgencyAreaRuleAndOpen() {
        let f = Feed()
        let events = [
            f.opened("X000001", at: day(0)),  // unallocated → probation
            f.opened("X000002", at: day(0), area: "wales"),
            f.opened("X000003", at: day(0.5)),
            f.allocated("X000002", at: day(1)),
            f.referred("X000002", at: day(1)),  // unanswered → provider
            f.allocated("X000003", at: day(8)),  // resolved unallocated
        ]
        given(events).at(day(10)).then { v in
            let all = v.state.flags(asOf: day(10))
            #expect(all.map(\.rule) == [.caseUnallocated, .caseUnallocated, .referralUnanswered])
            #expect(all.map(\.since) == all.map(\.since).sorted())
            #expect(v.state.flags(asOf: day(10), filter: FlagFilter(accountableKind: .interventions)).map(\.subject) == ["X000002"])
            #expect(v.state.flags(asOf: day(10), filter: FlagFilter(accountable: probationURN)).count == 2)
            #expect(v.state.flags(asOf: day(10), filter: FlagFilter(area: "wales")).map(\.rule) == [.referralUnanswered])
            #expect(v.state.flags(asOf: day(10), filter: FlagFilter(rule: .caseUnallocated, openOnly: true)).map(\.subject) == ["X000001"])
            #expect(v.state.flags(asOf: day(10), filter: FlagFilter(subject: "X000003")).first?.resolvedAt == day(8))
            #expect(v.state.caseIds(asOf: day(10), after: "X000001", limit: 1) == ["X000002"])
        }
    }

    @Test func rulesFileDefaultsAndValidation() throws {
        #expect(try ProjectionRules(json: Data(ProjectionRules.defaultJSON.utf8)) == ProjectionRules.defaults)
        let partial = try ProjectionRules(json: Data(#"{"enforcementDecisionDays": 3}"#.utf8))
        #expect(partial.enforcementDecisionDays == 3)
        #expect(partial.unallocatedDays == 5)
        let negative = Data(#"{"unallocatedDays": -1}"#.utf8)
        let tooHigh = Data(#"{"minimumResponseRate": 1.5}"#.utf8)
        let wrongType = Data(#"{"unallocatedDays": "five"}"#.utf8)
        #expect(throws: ProjectionRulesError.self) { _ = try ProjectionRules(json: negative) }
        #expect(throws: ProjectionRulesError.self) { _ = try ProjectionRules(json: tooHigh) }
        #expect(throws: (any Error).self) { _ = try ProjectionRules(json: wrongType) }
    }
}
