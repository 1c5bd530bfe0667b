import AccordEvents
import AccordProjection
import AccordTestSupport
import Foundation
import Testing

// The worked examples of docs/accountability-rules.md, one table-driven test per rule. Each case
// is one example of the document: the same events at the same times, and exactly the flags of
// that rule the document lists at each instant (no more, no fewer).

/// An instant of the examples, written `2025-03-08T09:00` (UTC).
private func ts(_ text: String) -> Timestamp {
    guard let t = Timestamp(rfc3339: text + ":00Z") else {
        Issue.record("not an instant: \(text)")
        return t0
    }
    return t
}

private let london = "urn:accord:probation:nps-london"
private let midlands = "urn:accord:probation:nps-midlands"
private let ace = "urn:accord:interventions:ace-payback"
private let bright = "urn:accord:interventions:bright-futures"
private let midlandsSource = EventSource(kind: .probation, agencyId: "nps-midlands")
private let brightSource = EventSource(kind: .interventions, agencyId: "bright-futures")

/// One flag a document table lists.
struct DocFlag: Sendable, Hashable, CustomStringConvertible {
    var id: String
    var since: Timestamp
    var resolvedAt: Timestamp?
    var resolution: FlagResolution?
    var accountable: String
    var area: String??
    /// The accountability periods (from, accountable), when the table lists them.
    var periods: [String]?
    /// The event ids, when the document lists them.
    var eventIds: [String]?

    var description: String {
        "\(id) since \(since) " + (resolvedAt.map { "resolved \($0) \(resolution?.rawValue ?? "?")" } ?? "open") + " → \(accountable)"
    }
}

private func open(_ id: String, since: String, _ accountable: String, area: String?? = .none,
                  periods: [String]? = nil, eventIds: [String]? = nil) -> DocFlag {
    DocFlag(id: id, since: ts(since), accountable: accountable, area: area, periods: periods, eventIds: eventIds)
}

private func resolved(_ id: String, since: String, at: String, _ how: FlagResolution, _ accountable: String,
                      area: String?? = .none, periods: [String]? = nil, eventIds: [String]? = nil) -> DocFlag {
    DocFlag(id: id, since: ts(since), resolvedAt: ts(at), resolution: how, accountable: accountable, area: area,
            periods: periods, eventIds: eventIds)
}

private func period(_ from: String, _ accountable: String) -> String { "\(ts(from)) \(accountable)" }

/// A row of a document table: the view at (`asOf`, `knownAt`) and the flags of the rule it shows.
struct DocCheck: Sendable {
    var asOf: Timestamp
    var knownAt: Timestamp?
    var flags: [DocFlag]
}

private func at(_ asOf: String, knownAt: String? = nil, _ flags: DocFlag...) -> DocCheck {
    DocCheck(asOf: ts(asOf), knownAt: knownAt.map(ts), flags: flags)
}

/// One worked example.
struct DocExample: Sendable, CustomTestStringConvertible {
    var name: String
    var rule: FlagRule
    var events: [(event: AccordEvent, recordedAt: Timestamp)]
    var checks: [DocCheck]
    var rules: ProjectionRules = .defaults
    var testDescription: String { name }
}

private func example(_ name: String, _ rule: FlagRule, _ events: [AccordEvent], late: [UUID: Timestamp] = [:],
                     rules: ProjectionRules = .defaults, _ checks: DocCheck...) -> DocExample {
    DocExample(name: name, rule: rule, events: events.map { ($0, late[$0.id] ?? $0.time) }, checks: checks, rules: rules)
}

private func run(_ example: DocExample) {
    var state = ProjectionState(rules: example.rules)
    for e in example.events { state.apply(e.event, recordedAt: e.recordedAt) }
    for check in example.checks {
        let flags = state.flags(asOf: check.asOf, knownAt: check.knownAt, filter: FlagFilter(rule: example.rule))
        let label = "asOf \(check.asOf)" + (check.knownAt.map { " knownAt \($0)" } ?? "")
        #expect(flags.map(\.id).sorted() == check.flags.map(\.id).sorted(), "\(example.name), \(label)")
        for want in check.flags {
            guard let got = flags.first(where: { $0.id == want.id }) else { continue }
            #expect(got.since == want.since, "\(want.id) since, \(label)")
            #expect(got.resolvedAt == want.resolvedAt, "\(want.id) resolvedAt, \(label)")
            #expect(got.open == (want.resolvedAt == nil), "\(want.id) open, \(label)")
            #expect(got.resolution == want.resolution, "\(want.id) resolution, \(label)")
            #expect(got.accountable == want.accountable, "\(want.id) accountable, \(label)")
            if case .some(let area) = want.area { #expect(got.area == area, "\(want.id) area, \(label)") }
            if let periods = want.periods {
                #expect(got.accountability.map { "\($0.from) \($0.accountable)" } == periods, "\(want.id) periods, \(label)")
            }
            if let ids = want.eventIds { #expect(got.eventIds == ids, "\(want.id) eventIds, \(label)") }
        }
    }
}

// MARK: - event builders for the examples

private extension Feed {
    func transfer(_ caseId: String, practitioner: String? = nil, office: String? = "nps-midlands",
                  at: String) -> AccordEvent {
        event(CaseTransferred(caseId: caseId, fromArea: "london-north", toArea: "midlands-east",
                              newPractitionerId: practitioner, toProbationId: office).payload, at: ts(at))
    }

    /// Opened 3 Mar 09:00 and referred (REF-1 under CT-0001 unless told) at 10:00.
    func openedAndReferred(_ caseId: String, risk: RiskLevel = .medium, contract: String = "CT-0001",
                           type: InterventionType = .unpaidWork) -> [AccordEvent] {
        [opened(caseId, at: ts("2025-03-03T09:00"), risk: risk),
         referred(caseId, contract: contract, type: type, at: ts("2025-03-03T10:00"))]
    }
}

// MARK: - the examples

enum DocExamples {
    static var rule1: [DocExample] {
        var out: [DocExample] = []
        do {
            let f = Feed(salt: "doc-1.1")
            out.append(example("1.1 allocated exactly at the limit", .caseUnallocated,
                               [f.opened("X100001", at: ts("2025-03-03T09:00")), f.allocated("X100001", at: ts("2025-03-08T09:00"))],
                               at("2025-03-20T00:00")))
        }
        do {
            let f = Feed(salt: "doc-1.2")
            let id = "case-unallocated|X100002|opened"
            out.append(example("1.2 allocated late", .caseUnallocated,
                               [f.opened("X100002", at: ts("2025-03-03T09:00")), f.allocated("X100002", at: ts("2025-03-10T14:00"))],
                               at("2025-03-08T09:00"),
                               at("2025-03-08T10:00", open(id, since: "2025-03-08T09:00", london, area: "london-north")),
                               at("2025-03-11T00:00", resolved(id, since: "2025-03-08T09:00", at: "2025-03-10T14:00", .allocated,
                                                               london, area: "london-north"))))
        }
        do {
            let f = Feed(salt: "doc-1.3")
            let transfer = f.transfer("X100003", at: "2025-03-10T12:00")
            let allocation = f.event(PractitionerAllocated(caseId: "X100003", practitionerId: "PR-30", team: "east-1").payload,
                                     at: ts("2025-03-17T12:00"), source: midlandsSource)
            let opening = resolved("case-unallocated|X100003|opened", since: "2025-03-08T09:00", at: "2025-03-10T12:00",
                                   .transferred, london, area: "london-north")
            let key = "case-unallocated|X100003|transfer-\(transfer.idString)"
            out.append(example("1.3 transferred before allocation, the receiving office allocates late", .caseUnallocated,
                               [f.opened("X100003", at: ts("2025-03-03T09:00")), transfer, allocation],
                               at("2025-03-11T00:00", opening),
                               at("2025-03-16T00:00", opening, open(key, since: "2025-03-15T12:00", midlands, area: "midlands-east")),
                               at("2025-03-18T00:00", opening,
                                  resolved(key, since: "2025-03-15T12:00", at: "2025-03-17T12:00", .allocated, midlands,
                                           area: "midlands-east"))))
        }
        do {
            let f = Feed(salt: "doc-1.4")
            let id = "case-unallocated|X100004|opened"
            out.append(example("1.4 a transfer naming the practitioner is an allocation", .caseUnallocated,
                               [f.opened("X100004", at: ts("2025-03-03T09:00")),
                                f.transfer("X100004", practitioner: "PR-77", at: "2025-03-10T12:00")],
                               at("2025-03-09T00:00", open(id, since: "2025-03-08T09:00", london, area: "london-north")),
                               at("2025-03-30T00:00", resolved(id, since: "2025-03-08T09:00", at: "2025-03-10T12:00", .allocated,
                                                               london, area: "london-north"))))
        }
        do {
            let f = Feed(salt: "doc-1.5")
            out.append(example("1.5 closed before allocation", .caseUnallocated,
                               [f.opened("X100005", at: ts("2025-03-03T09:00")), f.closed("X100005", .revoked, at: ts("2025-03-12T09:00"))],
                               at("2025-03-13T00:00", resolved("case-unallocated|X100005|opened", since: "2025-03-08T09:00",
                                                               at: "2025-03-12T09:00", .caseClosed, london))))
        }
        do {
            let f = Feed(salt: "doc-1.6")
            out.append(example("1.6 a transfer after the closure starts no obligation", .caseUnallocated,
                               [f.opened("X100006", at: ts("2025-03-03T09:00")), f.allocated("X100006", at: ts("2025-03-04T09:00")),
                                f.closed("X100006", at: ts("2025-03-05T09:00")), f.transfer("X100006", at: "2025-03-06T09:00")],
                               at("2025-03-20T00:00")))
        }
        return out
    }

    static var rule2: [DocExample] {
        var out: [DocExample] = []
        do {
            let f = Feed(salt: "doc-2.1")
            out.append(example("2.1 accepted exactly at the limit", .referralUnanswered,
                               [f.awarded()] + f.openedAndReferred("X200001") + [f.accepted("X200001", at: ts("2025-03-08T10:00"))],
                               at("2025-03-20T00:00")))
        }
        do {
            let f = Feed(salt: "doc-2.2")
            let id = "referral-unanswered|X200002|REF-1"
            out.append(example("2.2 accepted late", .referralUnanswered,
                               [f.awarded()] + f.openedAndReferred("X200002") + [f.accepted("X200002", at: ts("2025-03-10T09:00"))],
                               at("2025-03-08T10:00"),
                               at("2025-03-08T11:00", open(id, since: "2025-03-08T10:00", ace, area: "london-north")),
                               at("2025-03-11T00:00", resolved(id, since: "2025-03-08T10:00", at: "2025-03-10T09:00", .answered, ace,
                                                               area: "london-north"))))
        }
        do {
            let f = Feed(salt: "doc-2.3")
            let id = "referral-unanswered|X200003|REF-1"
            let variation = f.varied(at: ts("2025-03-04T09:00"),
                                     serviceLevels: ServiceLevels(referralResponseDays: 10, startWithinDays: 10, minimumCompletionRate: 0.75))
            out.append(example("2.3 a later variation does not move the deadline; a start answers", .referralUnanswered,
                               [f.awarded()] + f.openedAndReferred("X200003") + [variation, f.started("X200003", at: ts("2025-03-09T10:00"))],
                               at("2025-03-09T00:00", open(id, since: "2025-03-08T10:00", ace)),
                               at("2025-03-10T00:00", resolved(id, since: "2025-03-08T10:00", at: "2025-03-09T10:00", .answered, ace))))
        }
        do {
            let f = Feed(salt: "doc-2.4")
            let id = "referral-unanswered|X200004|REF-1"
            out.append(example("2.4 contract not in the view, transferred, then closed", .referralUnanswered,
                               f.openedAndReferred("X200004", contract: "CT-0404")
                                   + [f.transfer("X200004", practitioner: "PR-20", at: "2025-03-06T09:00"),
                                      f.closed("X200004", at: ts("2025-03-12T09:00"))],
                               at("2025-03-09T00:00", open(id, since: "2025-03-08T10:00", ace, area: "midlands-east")),
                               at("2025-03-13T00:00", resolved(id, since: "2025-03-08T10:00", at: "2025-03-12T09:00", .caseClosed, ace,
                                                               area: "midlands-east"))))
        }
        do {
            let f = Feed(salt: "doc-2.5")
            out.append(example("2.5 a referral after the closure starts no obligation", .referralUnanswered,
                               [f.awarded(), f.opened("X200005", at: ts("2025-03-03T09:00")), f.closed("X200005", at: ts("2025-03-04T09:00")),
                                f.referred("X200005", at: ts("2025-03-05T10:00"))],
                               at("2025-03-20T00:00")))
        }
        return out
    }

    static var rule3: [DocExample] {
        var out: [DocExample] = []
        do {
            let f = Feed(salt: "doc-3.1")
            let referral = f.event(InterventionReferred(caseId: "X300001", referralId: "REF-1", contractId: "CT-0001",
                                                        providerId: "ace-payback", interventionType: .unpaidWork,
                                                        dueBy: CalendarDate("2025-03-05") ?? t0.utcDate).payload,
                                   at: ts("2025-03-03T10:00"))
            out.append(example("3.1 started exactly at the limit; dueBy is not the deadline", .interventionNotStarted,
                               [f.awarded(), f.opened("X300001", at: ts("2025-03-03T09:00")), referral,
                                f.accepted("X300001", at: ts("2025-03-04T10:00")), f.started("X300001", at: ts("2025-03-13T10:00"))],
                               at("2025-03-30T00:00")))
        }
        do {
            let f = Feed(salt: "doc-3.2")
            let id = "intervention-not-started|X300002|REF-1"
            out.append(example("3.2 started late", .interventionNotStarted,
                               [f.awarded()] + f.openedAndReferred("X300002")
                                   + [f.accepted("X300002", at: ts("2025-03-04T10:00")), f.started("X300002", at: ts("2025-03-15T10:00"))],
                               at("2025-03-13T10:00"),
                               at("2025-03-13T11:00", open(id, since: "2025-03-13T10:00", ace)),
                               at("2025-03-16T00:00", resolved(id, since: "2025-03-13T10:00", at: "2025-03-15T10:00", .started, ace))))
        }
        do {
            let f = Feed(salt: "doc-3.3")
            let id = "intervention-not-started|X300003|REF-1"
            out.append(example("3.3 accepted after the deadline", .interventionNotStarted,
                               [f.awarded()] + f.openedAndReferred("X300003")
                                   + [f.accepted("X300003", at: ts("2025-03-14T09:00")), f.started("X300003", at: ts("2025-03-17T09:00"))],
                               at("2025-03-14T08:00"),
                               at("2025-03-14T09:00", open(id, since: "2025-03-14T09:00", ace)),
                               at("2025-03-18T00:00", resolved(id, since: "2025-03-14T09:00", at: "2025-03-17T09:00", .started, ace))))
            // The same example's referral-unanswered flag, as the document says.
            let g = Feed(salt: "doc-3.3")
            out.append(example("3.3 (rule 2 on the same referral)", .referralUnanswered,
                               [g.awarded()] + g.openedAndReferred("X300003")
                                   + [g.accepted("X300003", at: ts("2025-03-14T09:00")), g.started("X300003", at: ts("2025-03-17T09:00"))],
                               at("2025-03-18T00:00", resolved("referral-unanswered|X300003|REF-1", since: "2025-03-08T10:00",
                                                               at: "2025-03-14T09:00", .answered, ace))))
        }
        do {
            let f = Feed(salt: "doc-3.4")
            out.append(example("3.4 declined after accepting", .interventionNotStarted,
                               [f.awarded()] + f.openedAndReferred("X300004")
                                   + [f.accepted("X300004", at: ts("2025-03-04T10:00")), f.declined("X300004", at: ts("2025-03-20T10:00"))],
                               at("2025-03-21T00:00", resolved("intervention-not-started|X300004|REF-1", since: "2025-03-13T10:00",
                                                               at: "2025-03-20T10:00", .declined, ace))))
        }
        return out
    }

    static var rule4: [DocExample] {
        var out: [DocExample] = []
        func delivering(_ f: Feed, _ caseId: String) -> [AccordEvent] {
            f.openedAndReferred(caseId, type: .curfewMonitoring)
                + [f.accepted(caseId, at: ts("2025-03-03T12:00")), f.started(caseId, at: ts("2025-03-04T10:00"))]
        }
        do {
            let f = Feed(salt: "doc-4.1")
            out.append(example("4.1 decided exactly at the limit", .enforcementDecisionOverdue,
                               delivering(f, "X400001") + [f.violation("X400001", id: "CV-1", at: ts("2025-03-05T22:00")),
                                                           f.action(.warning, caseId: "X400001", at: ts("2025-03-12T22:00"))],
                               at("2025-03-30T00:00")))
        }
        do {
            let f = Feed(salt: "doc-4.2")
            let absence = f.missed("X400002", acceptable: false, at: ts("2025-03-05T10:00"))
            let failure = f.failure("CF-1", caseId: "X400002", related: absence.id, at: ts("2025-03-06T10:00"))
            let breach = f.event(EnforcementActionTaken(caseId: "X400002", action: .breach, failureIds: ["CF-1"]).payload,
                                 at: ts("2025-03-18T09:00"), source: midlandsSource)
            let id = "enforcement-decision-overdue|X400002|\(absence.idString)"
            let both = [period("2025-03-12T10:00", london), period("2025-03-14T09:00", midlands)]
            out.append(example("4.2 overdue, the case moves office, the receiving office decides", .enforcementDecisionOverdue,
                               delivering(f, "X400002")
                                   + [absence, failure, f.transfer("X400002", practitioner: "PR-20", at: "2025-03-14T09:00"), breach],
                               at("2025-03-13T00:00", open(id, since: "2025-03-12T10:00", london, area: "london-north",
                                                           periods: [period("2025-03-12T10:00", london)])),
                               at("2025-03-15T00:00", open(id, since: "2025-03-12T10:00", midlands, area: "midlands-east", periods: both)),
                               at("2025-03-19T00:00", resolved(id, since: "2025-03-12T10:00", at: "2025-03-18T09:00", .decisionTaken,
                                                               midlands, area: "midlands-east", periods: both,
                                                               eventIds: [absence.idString, failure.idString, breach.idString]))))
        }
        do {
            let f = Feed(salt: "doc-4.3")
            let v1 = f.violation("X400003", id: "CV-1", at: ts("2025-03-04T22:00"))
            let v2 = f.violation("X400003", id: "CV-2", at: ts("2025-03-16T22:00"))
            let key = "enforcement-decision-overdue|X400003|"
            out.append(example("4.3 an action naming no failures decides every earlier incident", .enforcementDecisionOverdue,
                               delivering(f, "X400003")
                                   + [f.failure("CF-1", caseId: "X400003", at: ts("2025-03-03T12:00")), v1,
                                      f.action(.warning, caseId: "X400003", failures: [], at: ts("2025-03-15T09:00")), v2],
                               at("2025-03-24T00:00",
                                  resolved(key + "CF-1", since: "2025-03-10T12:00", at: "2025-03-15T09:00", .decisionTaken, london),
                                  resolved(key + v1.idString, since: "2025-03-11T22:00", at: "2025-03-15T09:00", .decisionTaken, london),
                                  open(key + v2.idString, since: "2025-03-23T22:00", london))))
        }
        do {
            let f = Feed(salt: "doc-4.4")
            let key = "enforcement-decision-overdue|X400004|"
            out.append(example("4.4 an action naming failures decides only those; closure ends the rest", .enforcementDecisionOverdue,
                               delivering(f, "X400004")
                                   + [f.failure("CF-1", caseId: "X400004", at: ts("2025-03-03T12:00")),
                                      f.failure("CF-2", caseId: "X400004", at: ts("2025-03-04T12:00")),
                                      f.action(.breach, caseId: "X400004", failures: ["CF-1"], at: ts("2025-03-12T12:00")),
                                      f.closed("X400004", .revoked, at: ts("2025-03-20T09:00"))],
                               at("2025-03-21T00:00",
                                  resolved(key + "CF-1", since: "2025-03-10T12:00", at: "2025-03-12T12:00", .decisionTaken, london),
                                  resolved(key + "CF-2", since: "2025-03-11T12:00", at: "2025-03-20T09:00", .caseClosed, london))))
        }
        do {
            let f = Feed(salt: "doc-4.5")
            let stray = f.event(CurfewViolationDetected(caseId: "X400005", referralId: "REF-1", providerId: "bright-futures",
                                                        violationId: "CV-9", detectedAt: ts("2025-03-05T22:00"),
                                                        durationMinutes: 45).payload,
                                at: ts("2025-03-05T22:00"), source: brightSource)
            out.append(example("4.5 reports that call for no decision: another provider's, and after the closure", .enforcementDecisionOverdue,
                               delivering(f, "X400005")
                                   + [stray, f.closed("X400005", .revoked, at: ts("2025-03-10T09:00")),
                                      f.missed("X400005", acceptable: false, at: ts("2025-03-11T10:00"))],
                               at("2025-03-30T00:00")))
        }
        return out
    }

    static var rule5: [DocExample] {
        var out: [DocExample] = []
        do {
            let f = Feed(salt: "doc-5.1")
            let id = "activity-without-referral|X500001|REF-9|ace-payback"
            out.append(example("5.1 delivered first, referred later", .activityWithoutReferral,
                               [f.opened("X500001", at: ts("2025-03-03T09:00")), f.started("X500001", "REF-9", at: ts("2025-03-05T10:00")),
                                f.referred("X500001", "REF-9", at: ts("2025-03-07T10:00"))],
                               at("2025-03-05T09:00"),
                               at("2025-03-05T10:00", open(id, since: "2025-03-05T10:00", ace)),
                               at("2025-03-08T00:00", resolved(id, since: "2025-03-05T10:00", at: "2025-03-07T10:00", .referred, ace))))
        }
        do {
            let f = Feed(salt: "doc-5.2")
            let hours = f.event(UnpaidWorkHoursLogged(caseId: "X500002", referralId: "REF-1", providerId: "bright-futures",
                                                      hours: 3, date: ts("2025-03-06T10:00").utcDate).payload,
                                at: ts("2025-03-06T10:00"), source: brightSource)
            out.append(example("5.2 another provider reports on a referral", .activityWithoutReferral,
                               [f.awarded()] + f.openedAndReferred("X500002") + [f.accepted("X500002", at: ts("2025-03-04T10:00")), hours],
                               at("2025-03-06T09:00"),
                               at("2025-03-30T00:00", open("activity-without-referral|X500002|REF-1|bright-futures",
                                                           since: "2025-03-06T10:00", bright))))
        }
        do {
            let f = Feed(salt: "doc-5.3")
            let referral = f.referred("X500003", "REF-2", at: ts("2025-03-03T10:00"))
            out.append(example("5.3 the two perspectives", .activityWithoutReferral,
                               [f.opened("X500003", at: ts("2025-03-03T09:00")), referral,
                                f.accepted("X500003", "REF-2", at: ts("2025-03-04T10:00"))],
                               late: [referral.id: ts("2025-03-05T10:00")],
                               at("2025-03-04T12:00"),
                               at("2025-03-04T12:00", knownAt: "2025-03-04T12:00",
                                  open("activity-without-referral|X500003|REF-2|ace-payback", since: "2025-03-04T10:00", ace)),
                               at("2025-03-06T00:00", knownAt: "2025-03-06T00:00")))
        }
        do {
            let f = Feed(salt: "doc-5.4")
            let id = "activity-without-referral|X500004|REF-1|bright-futures"
            func byBright(_ payload: EventPayload, _ at: String) -> AccordEvent { f.event(payload, at: ts(at), source: brightSource) }
            out.append(example("5.4 a re-referral under the same referral id names another provider", .activityWithoutReferral,
                               [f.awarded()] + f.openedAndReferred("X500004")
                                   + [byBright(InterventionStarted(caseId: "X500004", referralId: "REF-1", providerId: "bright-futures").payload,
                                             "2025-03-05T10:00"),
                                      f.referred("X500004", provider: "bright-futures", at: ts("2025-03-06T10:00")),
                                      byBright(UnpaidWorkHoursLogged(caseId: "X500004", referralId: "REF-1", providerId: "bright-futures",
                                                                   hours: 3, date: ts("2025-03-07T10:00").utcDate).payload,
                                             "2025-03-07T10:00")],
                               at("2025-03-05T10:00", open(id, since: "2025-03-05T10:00", bright)),
                               at("2025-03-08T00:00", resolved(id, since: "2025-03-05T10:00", at: "2025-03-06T10:00", .referred, bright))))
            let g = Feed(salt: "doc-5.4")
            out.append(example("5.4 (rule 2 on the same referral: the first provider's obligation stands)", .referralUnanswered,
                               [g.awarded()] + g.openedAndReferred("X500004")
                                   + [g.event(InterventionStarted(caseId: "X500004", referralId: "REF-1", providerId: "bright-futures").payload,
                                              at: ts("2025-03-05T10:00"), source: brightSource),
                                      g.referred("X500004", provider: "bright-futures", at: ts("2025-03-06T10:00"))],
                               at("2025-03-09T00:00", open("referral-unanswered|X500004|REF-1", since: "2025-03-08T10:00", ace))))
        }
        do {
            let f = Feed(salt: "doc-5.5")
            let hours = f.event(UnpaidWorkHoursLogged(caseId: "X500005", referralId: "REF-8", providerId: "bright-futures",
                                                      hours: 2, date: ts("2025-03-11T10:00").utcDate).payload,
                                at: ts("2025-03-11T10:00"), source: brightSource)
            let id = "activity-without-referral|X500005|REF-9|ace-payback"
            out.append(example("5.5 closure resolves it; activity after the closure is not flagged", .activityWithoutReferral,
                               [f.opened("X500005", at: ts("2025-03-03T09:00")), f.started("X500005", "REF-9", at: ts("2025-03-05T10:00")),
                                f.closed("X500005", at: ts("2025-03-10T09:00")), hours],
                               at("2025-03-09T00:00", open(id, since: "2025-03-05T10:00", ace)),
                               at("2025-03-12T00:00", resolved(id, since: "2025-03-05T10:00", at: "2025-03-10T09:00", .caseClosed, ace))))
        }
        return out
    }

    static var rule6: [DocExample] {
        var out: [DocExample] = []
        do {
            let f = Feed(salt: "doc-6.1")
            let id = "risk-not-cleared|X600001|REF-1|1"
            out.append(example("6.1 high risk at referral, later reassessed", .riskNotCleared,
                               [f.awarded(maxRisk: .medium)] + f.openedAndReferred("X600001", risk: .high)
                                   + [f.risk(.medium, caseId: "X600001", at: ts("2025-03-10T09:00"))],
                               at("2025-03-03T09:30"),
                               at("2025-03-03T10:00", open(id, since: "2025-03-03T10:00", london)),
                               at("2025-03-11T00:00", resolved(id, since: "2025-03-03T10:00", at: "2025-03-10T09:00", .cleared, london))))
        }
        do {
            let f = Feed(salt: "doc-6.2")
            let one = "risk-not-cleared|X600002|REF-1|1"
            let two = "risk-not-cleared|X600002|REF-1|2"
            let first = resolved(one, since: "2025-03-06T09:00", at: "2025-03-09T09:00", .cleared, london)
            out.append(example("6.2 risk rises, clearance raised, lowered again, completed", .riskNotCleared,
                               [f.awarded(maxRisk: .medium)] + f.openedAndReferred("X600002", risk: .low)
                                   + [f.accepted("X600002", at: ts("2025-03-03T12:00")), f.risk(.high, caseId: "X600002", at: ts("2025-03-06T09:00")),
                                      f.varied(at: ts("2025-03-09T09:00"), maxRisk: .veryHigh), f.varied(at: ts("2025-03-12T09:00"), maxRisk: .medium),
                                      f.completed("X600002", at: ts("2025-03-20T09:00"))],
                               at("2025-03-06T08:00"),
                               at("2025-03-07T00:00", open(one, since: "2025-03-06T09:00", london)),
                               at("2025-03-10T00:00", first),
                               at("2025-03-13T00:00", first, open(two, since: "2025-03-12T09:00", london)),
                               at("2025-03-21T00:00", first,
                                  resolved(two, since: "2025-03-12T09:00", at: "2025-03-20T09:00", .referralEnded, london))))
        }
        do {
            let f = Feed(salt: "doc-6.3")
            let id = "risk-not-cleared|X600003|REF-1|1"
            let both = [period("2025-03-03T10:00", london), period("2025-03-05T09:00", midlands)]
            out.append(example("6.3 contract not in the view, the case moves office, closed", .riskNotCleared,
                               f.openedAndReferred("X600003", risk: .veryHigh, contract: "CT-0404")
                                   + [f.transfer("X600003", practitioner: "PR-20", at: "2025-03-05T09:00"),
                                      f.closed("X600003", at: ts("2025-03-10T09:00"))],
                               at("2025-03-04T00:00", open(id, since: "2025-03-03T10:00", london, periods: [period("2025-03-03T10:00", london)])),
                               at("2025-03-06T00:00", open(id, since: "2025-03-03T10:00", midlands, periods: both)),
                               at("2025-03-11T00:00", resolved(id, since: "2025-03-03T10:00", at: "2025-03-10T09:00", .caseClosed, midlands,
                                                               periods: both))))
        }
        do {
            let f = Feed(salt: "doc-6.4")
            let id = "risk-not-cleared|X600004|REF-1|1"
            let both = [period("2025-03-05T09:00", london), period("2025-03-07T09:00", midlands)]
            out.append(example("6.4 no risk level at the referral; a later assessment is checked", .riskNotCleared,
                               [f.awarded(maxRisk: .medium), f.referred("X600004", at: ts("2025-03-03T10:00")),
                                f.risk(.high, caseId: "X600004", at: ts("2025-03-05T09:00")),
                                f.transfer("X600004", practitioner: "PR-20", at: "2025-03-07T09:00")],
                               at("2025-03-05T08:00"),
                               at("2025-03-06T00:00", open(id, since: "2025-03-05T09:00", london, area: .some(nil),
                                                           periods: [period("2025-03-05T09:00", london)])),
                               at("2025-03-08T00:00", open(id, since: "2025-03-05T09:00", midlands, area: "midlands-east", periods: both))))
        }
        return out
    }

    static var rule7: [DocExample] {
        var out: [DocExample] = []
        let id = "sequence-gap|\(london)|2"
        do {
            let f = Feed(salt: "doc-7.1")
            // Built in number order: 1, 2, 3.
            let opening = f.opened("X700001", at: ts("2025-03-03T09:00"))
            let allocation = f.allocated("X700001", at: ts("2025-03-04T09:00"))
            out.append(example("7.1 a late event fills a gap", .sequenceGap,
                               [opening, allocation,
                                f.risk(.high, caseId: "X700001", at: ts("2025-03-05T09:00"))],
                               late: [allocation.id: ts("2025-03-06T09:00")],
                               at("2025-03-05T12:00", knownAt: "2025-03-05T12:00", open(id, since: "2025-03-05T09:00", london, area: .some(nil))),
                               at("2025-03-04T12:00", knownAt: "2025-03-05T12:00"),
                               at("2025-03-05T12:00"),
                               at("2025-03-06T12:00", knownAt: "2025-03-06T12:00")))
        }
        do {
            let f = Feed(salt: "doc-7.2")
            let one = f.opened("X700002", at: ts("2025-03-03T09:00"))
            let five = f.event(RiskReassessed(caseId: "X700002", riskLevel: .high, reason: "Reviewed").payload,
                               at: ts("2025-03-04T09:00"), sequence: 5)
            out.append(example("7.2 numbers that never arrive", .sequenceGap, [one, five],
                               at("2025-03-03T12:00"),
                               at("2025-03-04T09:00", open(id, since: "2025-03-04T09:00", london)),
                               at("2025-03-30T00:00", open(id, since: "2025-03-04T09:00", london))))
        }
        return out
    }

    static var rule8: [DocExample] {
        var out: [DocExample] = []
        func referredAndAnswered(_ f: Feed, _ caseId: String, accepted: Bool = true) -> [AccordEvent] {
            f.openedAndReferred(caseId) + (accepted ? [f.accepted(caseId, at: ts("2025-03-04T10:00"))] : [])
        }
        do {
            let f = Feed(salt: "doc-8.1")
            var events = [f.awarded()]
            let outcomes = ["2025-03-20", "2025-03-21", "2025-03-22", "2025-03-23", "2025-03-24", "2025-04-01", "2025-04-02", "2025-04-03"]
            for (i, day) in outcomes.enumerated() {
                let caseId = "X80000\(i + 1)"
                events += referredAndAnswered(f, caseId) + [f.started(caseId, at: ts("2025-03-05T10:00"))]
                let when = ts(day + "T10:00")
                events.append(i == 3 || i == 4 ? f.endedEarly(caseId, at: when) : f.completed(caseId, at: when))
            }
            let id = "contract-below-service-level|CT-0001|completion|1"
            out.append(example("8.1 completion rate falls and recovers", .contractBelowServiceLevel, events,
                               at("2025-03-24T09:00"),
                               at("2025-03-24T10:00", open(id, since: "2025-03-24T10:00", ace, area: "london-north")),
                               at("2025-04-04T00:00", resolved(id, since: "2025-03-24T10:00", at: "2025-04-03T10:00", .recovered, ace,
                                                               area: "london-north"))))
        }
        let id = "contract-below-service-level|CT-0001|response|1"
        do {
            let f = Feed(salt: "doc-8.2")
            var events = [f.awarded()]
            for i in 1...5 { events += referredAndAnswered(f, "X81000\(i)", accepted: i < 5) }
            let unanswered = events.last { if case .probation(.interventionReferred) = $0.payload { return true } else { return false } }
            let ended = f.contractEnded(at: ts("2025-03-15T09:00"))
            out.append(example("8.2 response rate falls, the contract is ended", .contractBelowServiceLevel, events + [ended],
                               at("2025-03-08T10:00"),
                               at("2025-03-08T11:00", open(id, since: "2025-03-08T10:00", ace)),
                               at("2025-03-16T00:00", resolved(id, since: "2025-03-08T10:00", at: "2025-03-15T09:00", .contractEnded, ace,
                                                               eventIds: [unanswered?.idString ?? "?", ended.idString]))))
        }
        do {
            let f = Feed(salt: "doc-8.3")
            var events = [f.awarded()]
            for i in 1...5 { events += referredAndAnswered(f, "X81000\(i)", accepted: i < 5) }
            let award = events[0]
            let unanswered = events.last { if case .probation(.interventionReferred) = $0.payload { return true } else { return false } }
            out.append(example("8.3 the contract period lapses", .contractBelowServiceLevel, events,
                               at("2026-01-02T00:00", resolved(id, since: "2025-03-08T10:00", at: "2026-01-01T00:00", .contractEnded, ace,
                                                               eventIds: [unanswered?.idString ?? "?", award.idString]))))
        }
        do {
            let f = Feed(salt: "doc-8.4")
            let two = ProjectionRules(minimumOutcomesForRate: 2)
            let x2referral = f.referred("X820002", at: ts("2025-03-10T10:00"))
            out.append(example("8.4 an answer before its referral counts from the referral", .contractBelowServiceLevel,
                               [f.awarded()] + f.openedAndReferred("X820001")
                                   + [f.opened("X820002", at: ts("2025-03-03T09:00")), f.accepted("X820002", at: ts("2025-03-04T10:00")),
                                      x2referral],
                               rules: two,
                               at("2025-03-09T00:00"),
                               at("2025-03-10T09:00"),
                               at("2025-03-10T10:00", open(id, since: "2025-03-10T10:00", ace, eventIds: [x2referral.idString]))))
        }
        return out
    }
}

@Suite("docs/accountability-rules.md worked examples")
struct AccountabilityRulesDocTests {
    @Test("1 case-unallocated", arguments: DocExamples.rule1)
    func caseUnallocated(_ example: DocExample) { run(example) }

    @Test("2 referral-unanswered", arguments: DocExamples.rule2)
    func referralUnanswered(_ example: DocExample) { run(example) }

    @Test("3 intervention-not-started", arguments: DocExamples.rule3)
    func interventionNotStarted(_ example: DocExample) { run(example) }

    @Test("4 enforcement-decision-overdue", arguments: DocExamples.rule4)
    func enforcementDecisionOverdue(_ example: DocExample) { run(example) }

    @Test("5 activity-without-referral", arguments: DocExamples.rule5)
    func activityWithoutReferral(_ example: DocExample) { run(example) }

    @Test("6 risk-not-cleared", arguments: DocExamples.rule6)
    func riskNotCleared(_ example: DocExample) { run(example) }

    @Test("7 sequence-gap", arguments: DocExamples.rule7)
    func sequenceGap(_ example: DocExample) { run(example) }

    @Test("8 contract-below-service-level", arguments: DocExamples.rule8)
    func contractBelowServiceLevel(_ example: DocExample) { run(example) }

    @Test("the examples' default thresholds are the rules file's defaults")
    func defaultsAreTheDocumentedOnes() throws {
        let rules = try ProjectionRules(json: Data(ProjectionRules.defaultJSON.utf8))
        #expect(rules == ProjectionRules.defaults)
        #expect(rules.unallocatedDays == 5 && rules.referralResponseDays == 5 && rules.startWithinDays == 10)
        #expect(rules.enforcementDecisionDays == 7 && rules.minimumOutcomesForRate == 5)
        #expect(rules.minimumCompletionRate == 0.75 && rules.minimumResponseRate == 0.9 && rules.minimumStartRate == 0.9)
        #expect(rules.defaultMaxRiskLevel == .high)
    }
}
