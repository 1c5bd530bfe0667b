import AccordEvents
import AccordProjection
import AccordProjector
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

private let perspectiveNow = "what happened by asOf, as known now (late-recorded events included)"
private let perspectiveKnownAt = "what the view showed: only events recorded by knownAt"

/// Checks the envelope every view answer carries: asOf, knownAt (null unless asked) and perspective.
private func expectEnvelope(_ json: [String: Any], asOf: Timestamp = qNow, knownAt: Timestamp? = nil,
                            sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(json["asOf"] as? String == asOf.rfc3339, sourceLocation: sourceLocation)
    #expect(json.keys.contains("knownAt"), "knownAt is always stated", sourceLocation: sourceLocation)
    #expect(json["knownAt"] as? String == knownAt?.rfc3339, sourceLocation: sourceLocation)
    #expect(json["perspective"] as? String == (knownAt == nil ? perspectiveNow : perspectiveKnownAt),
            sourceLocation: sourceLocation)
}

/// Checks a problem+json answer: status, content type, and that `detail` mentions each of `mentions`.
private func expectProblem(_ exchange: Exchange, _ status: Int, mentions: [String] = [],
                           sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(exchange.status == status, "\(exchange.uri): \(exchange.text)", sourceLocation: sourceLocation)
    #expect(exchange.contentType == "application/problem+json", sourceLocation: sourceLocation)
    let json = exchange.json(sourceLocation: sourceLocation)
    #expect(json["status"] as? Int == status, sourceLocation: sourceLocation)
    #expect((json["type"] as? String)?.hasPrefix("https://accord.example/problems/") == true, sourceLocation: sourceLocation)
    #expect(json["title"] is String, sourceLocation: sourceLocation)
    let detail = json["detail"] as? String ?? ""
    for mention in mentions {
        #expect(detail.contains(mention), "detail '\(detail)' does not mention '\(mention)'", sourceLocation: sourceLocation)
    }
}

private func flagIds(_ json: [String: Any]) -> [String] { items(json).compactMap { $0["id"] as? String } }
private func flagRules(_ json: [String: Any]) -> [String] { items(json).compactMap { $0["rule"] as? String } }

@Suite("Query API")
struct QueryAPITests {
    // MARK: routes answer with the expected data

    @Test("case view: order, practitioner, risk, interventions, reoffence and open flags")
    func caseView() async throws {
        let exchange = try await withQueryAPI { try await $0.get("/v1/cases/X000001") }
        #expect(exchange.status == 200)
        #expect(exchange.contentType == "application/json")
        let json = exchange.json()
        expectEnvelope(json)
        let data = json["data"]
        #expect(string(data, "caseId") == "X000001")
        #expect(string(data, "asOf") == qNow.rfc3339)
        #expect(string(data, "status") == "open")
        #expect(string(data, "area") == "london-north")
        #expect(string(data, "probationSource") == qProbationURN)
        #expect(string(data, "riskLevel") == "medium")
        #expect(string(data, "practitioner/practitionerId") == "PR-01")
        #expect(string(data, "order/orderType") == "community-order")
        #expect(string(data, "order/startDate") == "2025-03-03")
        #expect(string(data, "order/requirements/0/kind") == "unpaid-work")
        #expect(int(data, "order/requirements/0/hours") == 100)
        #expect(int(data, "eventCount") == 10)
        #expect(string(data, "lastEventAt") == qDay(22).rfc3339)
        #expect(value(data, "outcome") == nil, "optional fields are omitted, not null")
        #expect(string(data, "interventions/0/referralId") == "REF-1")
        #expect(string(data, "interventions/0/status") == "completed")
        #expect(string(data, "interventions/0/contractId") == "CT-0001")
        #expect(string(data, "interventions/0/provider") == qProviderURN)
        #expect(int(data, "interventions/0/appointmentsAttended") == 1)
        #expect(int(data, "interventions/0/appointmentsMissedUnacceptable") == 1)
        #expect(double(data, "interventions/0/unpaidWorkHoursLogged") == 6)
        #expect(double(data, "interventions/0/unpaidWorkHoursRequired") == 100)
        #expect(string(data, "provenReoffences/0/offenceDate") == "2025-03-20")
        let openFlags = value(data, "openFlags") as? [[String: Any]] ?? []
        #expect(openFlags.map { $0["rule"] as? String } == ["enforcement-decision-overdue"])
        #expect(openFlags.first?["since"] as? String == qDay(12).rfc3339)
        #expect(openFlags.first?["accountable"] as? String == qProbationURN)
    }

    @Test("case list: every case in id order, with area filter")
    func caseList() async throws {
        let (all, south) = try await withQueryAPI { client in
            (try await client.get("/v1/cases"), try await client.get("/v1/cases?area=london-south"))
        }
        #expect(all.status == 200)
        let json = all.json()
        expectEnvelope(json)
        #expect(items(json).compactMap { $0["caseId"] as? String } == (1...7).map { "X00000\($0)" })
        #expect(json["total"] as? Int == 7)
        #expect(json["nextCursor"] == nil)
        let x1 = items(json).first
        #expect(x1?["openFlags"] as? Int == 1)
        #expect(x1?["riskLevel"] as? String == "medium")
        let x7 = items(json).last
        #expect(x7?["status"] as? String == "closed")
        let x6 = items(json).first { $0["caseId"] as? String == "X000006" }
        #expect(x6?["area"] == nil, "a case seen only through provider activity has no area")
        #expect(items(south.json()).compactMap { $0["caseId"] as? String } == ["X000002"])
    }

    @Test("timeline: every agency's events about the case, oldest first")
    func timeline() async throws {
        let exchange = try await withQueryAPI { try await $0.get("/v1/cases/X000001/timeline") }
        #expect(exchange.status == 200)
        let json = exchange.json()
        expectEnvelope(json)
        let entries = items(json)
        #expect(entries.compactMap { $0["type"] as? String } == [
            "case-opened", "practitioner-allocated", "intervention-referred", "referral-accepted", "intervention-started",
            "appointment-attended", "appointment-missed", "unpaid-work-hours-logged", "intervention-completed",
            "proven-reoffence-recorded",
        ])
        let times = entries.compactMap { ($0["time"] as? String).flatMap(Timestamp.init(rfc3339:)) }
        #expect(times.count == entries.count)
        #expect(times == times.sorted())
        #expect(Set(entries.compactMap { $0["agency"] as? String }) == ["probation", "interventions", "commissioner"])
        #expect(entries[3]["referralId"] as? String == "REF-1")
        #expect(entries[3]["source"] as? String == qProviderURN)
        #expect(entries[3]["eventType"] as? String == "org.accord.interventions.referral-accepted.v1")
        #expect(entries[0]["referralId"] == nil)
        #expect(json["total"] as? Int == 10)
    }

    @Test("flags: every rule in the scenario, sorted, filtered by agency, area, rule, subject and open")
    func flags() async throws {
        let exchanges = try await withQueryAPI { client in
            var out: [String: Exchange] = [:]
            for query in ["", "agency=probation", "agency=interventions", "agency=\(qCommissionerURN)", "area=london-north",
                          "area=london-south", "open=true", "rule=case-unallocated", "rule=case-unallocated&open=true",
                          "subject=X000001", "agency=interventions&area=london-north&open=true"] {
                let exchange = try await client.get("/v1/flags" + (query.isEmpty ? "" : "?\(query)"))
                #expect(exchange.status == 200, "\(query): \(exchange.text)")
                out[query] = exchange
            }
            return out
        }
        let answers = exchanges.mapValues { $0.json() }
        let all = answers[""] ?? [:]
        expectEnvelope(all)
        #expect(flagRules(all) == [
            "sequence-gap", "risk-not-cleared", "activity-without-referral", "case-unallocated", "case-unallocated",
            "referral-unanswered", "intervention-not-started", "enforcement-decision-overdue",
        ])
        let since = items(all).compactMap { ($0["since"] as? String).flatMap(Timestamp.init(rfc3339:)) }
        #expect(since == since.sorted())
        let gap = items(all).first
        #expect(gap?["subject"] as? String == qCommissionerURN)
        #expect(gap?["subjectKind"] == nil)
        #expect(gap?["accountableKind"] as? String == "commissioner")
        let risk = items(all).first { $0["rule"] as? String == "risk-not-cleared" }
        #expect(risk?["open"] as? Bool == false)
        #expect(risk?["since"] as? String == qDay(2).rfc3339)
        #expect(risk?["resolvedAt"] as? String == qDay(15).rfc3339)
        #expect(risk?["accountable"] as? String == qProbationURN)

        func subjects(_ query: String) -> [String] {
            items(answers[query] ?? [:]).compactMap { item in
                (item["rule"] as? String).map { "\($0) \(item["subject"] as? String ?? "?")" }
            }
        }
        #expect(subjects("agency=probation") == [
            "risk-not-cleared X000005", "case-unallocated X000002", "case-unallocated X000007", "enforcement-decision-overdue X000001",
        ])
        #expect(subjects("agency=interventions") == [
            "activity-without-referral X000006", "referral-unanswered X000003", "intervention-not-started X000004",
        ])
        #expect(subjects("agency=\(qCommissionerURN)") == ["sequence-gap \(qCommissionerURN)"])
        #expect(subjects("area=london-north") == [
            "risk-not-cleared X000005", "case-unallocated X000007", "referral-unanswered X000003",
            "intervention-not-started X000004", "enforcement-decision-overdue X000001",
        ])
        #expect(subjects("area=london-south") == ["case-unallocated X000002"])
        #expect(subjects("open=true").count == 6)
        #expect(items(answers["open=true"] ?? [:]).allSatisfy { $0["open"] as? Bool == true && $0["resolvedAt"] == nil })
        #expect(subjects("rule=case-unallocated") == ["case-unallocated X000002", "case-unallocated X000007"])
        #expect(subjects("rule=case-unallocated&open=true") == ["case-unallocated X000002"])
        #expect(subjects("subject=X000001") == ["enforcement-decision-overdue X000001"])
        #expect(subjects("agency=interventions&area=london-north&open=true") == [
            "referral-unanswered X000003", "intervention-not-started X000004",
        ])
    }

    @Test("contract performance: counts, rates, service levels and payment by results")
    func contractPerformance() async throws {
        let exchange = try await withQueryAPI { try await $0.get("/v1/contracts/CT-0001/performance") }
        #expect(exchange.status == 200)
        let json = exchange.json()
        expectEnvelope(json)
        let data = json["data"]
        #expect(string(data, "contractId") == "CT-0001")
        #expect(string(data, "status") == "active")
        #expect(string(data, "commissionerSource") == qCommissionerURN)
        #expect(string(data, "terms/area") == "london-north")
        #expect(string(data, "terms/periodEnd") == "2025-12-31")
        #expect(int(data, "terms/price/amountMinor") == 10_000_000)
        #expect(string(data, "terms/price/currency") == "GBP")
        let counts = value(data, "counts") as? [String: Int] ?? [:]
        #expect(counts == [
            "referrals": 4, "accepted": 3, "declined": 0, "pending": 1, "started": 2, "startedWithinLimit": 2,
            "completed": 1, "endedEarly": 1, "answered": 3, "answeredWithinLimit": 3, "responseDue": 4, "startDue": 3,
        ])
        #expect(double(data, "rates/responseWithinLimit") == 0.75)
        #expect(double(data, "rates/startWithinLimit") == 2.0 / 3.0)
        #expect(double(data, "rates/completion") == 0.5)
        // REF-1 was referred at day 1.1 and answered (started) 0.9 (1.9) days later; REF-4 and REF-5 after 1 (2) days.
        #expect(abs((double(data, "averageDaysToRespond") ?? 0) - (0.9 + 1 + 1) / 3) < 1e-9)
        #expect(abs((double(data, "averageDaysToStart") ?? 0) - (1.9 + 2) / 2) < 1e-9)
        #expect(int(data, "provenReoffences") == 1)
        #expect(int(data, "casesWithProvenReoffence") == 1)
        #expect((value(data, "serviceLevels") as? [[String: Any]])?.compactMap { $0["state"] as? String }
                == ["insufficient-data", "insufficient-data", "insufficient-data"])
        #expect(string(data, "payment/outcomeMetric") == "completion")
        #expect(double(data, "payment/outcomeRate") == 0.5)
        #expect(string(data, "payment/outcomeBasis") == "1 of 2 outcomes completed")
        #expect(int(data, "payment/priceMinor") == 10_000_000)
        #expect(int(data, "payment/fixedPaymentMinor") == 7_500_000)
        #expect(int(data, "payment/outcomePaymentMinor") == 1_250_000)
        #expect(int(data, "payment/maximumOutcomePaymentMinor") == 2_500_000)
        #expect(int(data, "payment/totalPaymentMinor") == 8_750_000)
        #expect((value(data, "openFlags") as? [Any])?.isEmpty == true)
    }

    @Test("area summary: open and closed cases, risk and order mix, flags by rule and agency, contracts, priorities")
    func areaSummary() async throws {
        let exchange = try await withQueryAPI { try await $0.get("/v1/areas/london-north/summary") }
        #expect(exchange.status == 200)
        let json = exchange.json()
        expectEnvelope(json)
        let data = json["data"]
        func keyCounts(_ path: String) -> [String: Int] {
            var out: [String: Int] = [:]
            for entry in value(data, path) as? [[String: Any]] ?? [] {
                if let key = entry["key"] as? String ?? entry["accountable"] as? String { out[key] = entry["count"] as? Int }
            }
            return out
        }
        #expect(string(data, "area") == "london-north")
        #expect(int(data, "casesOpen") == 4)
        #expect(int(data, "casesClosed") == 1)
        #expect(keyCounts("openCasesByRiskLevel") == ["medium": 2, "high": 1, "very-high": 1])
        #expect(keyCounts("openCasesByOrderType") == ["community-order": 3, "licence": 1])
        #expect((value(data, "unallocatedCases") as? [String]) == [])
        #expect(keyCounts("openFlagsByRule") == [
            "enforcement-decision-overdue": 1, "intervention-not-started": 1, "referral-unanswered": 1,
        ])
        #expect(keyCounts("openFlagsByAgency") == [qProbationURN: 1, qProviderURN: 2])
        #expect(string(data, "contracts/0/contractId") == "CT-0001")
        #expect(string(data, "contracts/0/status") == "active")
        #expect(string(data, "localPriorities/0/priority") == "violence-reduction")
        #expect(int(data, "provenReoffences") == 1)

        let south = try await withQueryAPI { try await $0.get("/v1/areas/london-south/summary") }.json()
        #expect((value(south["data"], "unallocatedCases") as? [String]) == ["X000002"])
    }

    @Test("view digest: 32 hex digits, stable, and different at another instant")
    func digest() async throws {
        let (now, again, earlier) = try await withQueryAPI { client in
            (try await client.get("/v1/view/digest"), try await client.get("/v1/view/digest"),
             try await client.get("/v1/view/digest?asOf=\(qDay(4).rfc3339)"))
        }
        let json = now.json()
        expectEnvelope(json)
        let digest = string(json["data"], "digest") ?? ""
        #expect(digest.count == 64 && digest.allSatisfy(\.isHexDigit))
        #expect(digest == QueryScenario.state.digest(asOf: qNow))
        #expect(string(again.json()["data"], "digest") == digest)
        #expect(string(earlier.json()["data"], "digest") != digest)
        #expect(int(json["data"], "events") == QueryScenario.state.eventCount)
    }

    // MARK: asOf and knownAt

    @Test("asOf: a referral is not yet overdue on day 6.5 and overdue on day 7.5")
    func asOfChangesTheAnswer() async throws {
        let (before, after, caseBefore) = try await withQueryAPI { client in
            (try await client.get("/v1/flags?rule=referral-unanswered&asOf=\(qDay(6.5).rfc3339)"),
             try await client.get("/v1/flags?rule=referral-unanswered&asOf=\(qDay(7.5).rfc3339)"),
             try await client.get("/v1/cases/X000003?asOf=\(qDay(6.5).rfc3339)"))
        }
        let early = before.json()
        expectEnvelope(early, asOf: qDay(6.5))
        #expect(items(early).isEmpty)
        #expect(early["total"] as? Int == 0)
        let late = after.json()
        expectEnvelope(late, asOf: qDay(7.5))
        #expect(flagIds(late) == ["referral-unanswered|X000003|REF-3"])
        #expect(items(late).first?["open"] as? Bool == true)
        #expect(items(late).first?["since"] as? String == qDay(7).rfc3339)
        let caseJSON = caseBefore.json()
        expectEnvelope(caseJSON, asOf: qDay(6.5))
        #expect((value(caseJSON["data"], "openFlags") as? [Any])?.isEmpty == true)
        #expect(string(caseJSON["data"], "asOf") == qDay(6.5).rfc3339)
    }

    @Test("asOf before a case existed: 404")
    func asOfBeforeTheCase() async throws {
        let exchange = try await withQueryAPI { try await $0.get("/v1/cases/X000001?asOf=2025-03-01T00:00:00Z") }
        expectProblem(exchange, 404, mentions: ["case X000001", "2025-03-01T00:00:00Z"])
    }

    @Test("knownAt: a reassessment recorded on day 25 is not in the view as known on day 20")
    func knownAtExcludesLaterRecords() async throws {
        let knownAt = qDay(20)
        let (known, asKnown, timelineNow, timelineKnown) = try await withQueryAPI { client in
            (try await client.get("/v1/cases/X000004"),
             try await client.get("/v1/cases/X000004?knownAt=\(knownAt.rfc3339)"),
             try await client.get("/v1/cases/X000004/timeline"),
             try await client.get("/v1/cases/X000004/timeline?knownAt=\(knownAt.rfc3339)"))
        }
        let now = known.json()
        expectEnvelope(now)
        #expect(string(now["data"], "riskLevel") == "high")
        let then = asKnown.json()
        expectEnvelope(then, knownAt: knownAt)
        #expect(string(then["data"], "riskLevel") == "medium")
        let typesNow = items(timelineNow.json()).compactMap { $0["type"] as? String }
        let typesThen = items(timelineKnown.json()).compactMap { $0["type"] as? String }
        #expect(typesNow.contains("risk-reassessed"))
        #expect(!typesThen.contains("risk-reassessed"))
        #expect(typesThen.count == typesNow.count - 1)
        expectEnvelope(timelineKnown.json(), knownAt: knownAt)
    }

    // MARK: pagination

    @Test("limit and cursor walk the whole list, no item missing or repeated", arguments: [1, 3, 7, 1000])
    func pagination(limit: Int) async throws {
        let (whole, exchanges) = try await withQueryAPI { client in
            let whole = try await client.get("/v1/flags?limit=1000")
            var exchanges: [Exchange] = []
            var uri = "/v1/flags?limit=\(limit)"
            while exchanges.count < 100 {
                let exchange = try await client.get(uri)
                #expect(exchange.status == 200, "\(uri): \(exchange.text)")
                exchanges.append(exchange)
                guard let next = exchange.json()["nextCursor"] as? String else { break }
                let encoded = next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? next
                uri = "/v1/flags?limit=\(limit)&cursor=\(encoded)"
            }
            return (whole, exchanges)
        }
        let reference = flagIds(whole.json())
        let pages = exchanges.map { $0.json() }
        #expect(reference.count == 8)
        let walked = pages.flatMap { flagIds($0) }
        #expect(walked == reference)
        #expect(Set(walked).count == walked.count)
        #expect(pages.count == (reference.count + limit - 1) / limit)
        #expect(pages.allSatisfy { $0["total"] as? Int == reference.count })
        #expect(pages.allSatisfy { items($0).count <= limit })
        for page in pages { expectEnvelope(page) }
    }

    @Test("timeline pages the same way")
    func timelinePagination() async throws {
        let (whole, walked) = try await withQueryAPI { client in
            let whole = items(try await client.get("/v1/cases/X000001/timeline").json()).compactMap { $0["eventId"] as? String }
            var walked: [String] = []
            var cursor: String?
            repeat {
                let uri = "/v1/cases/X000001/timeline?limit=4" + (cursor.map { "&cursor=\($0)" } ?? "")
                let json = try await client.get(uri).json()
                walked += items(json).compactMap { $0["eventId"] as? String }
                cursor = (json["nextCursor"] as? String)?.addingPercentEncoding(withAllowedCharacters: .alphanumerics)
            } while cursor != nil && walked.count < 100
            return (whole, walked)
        }
        #expect(whole.count == 10)
        #expect(walked == whole)
    }

    @Test("bad limit or cursor: 400 naming the parameter",
          arguments: ["limit=0", "limit=1001", "limit=ten", "limit=-1", "cursor=bm9wZQ%3D%3D", "cursor=%25%25", "cursor=aTotMQ%3D%3D"])
    func badPaging(query: String) async throws {
        let name = String(query.prefix { $0 != "=" })
        let (flags, cases) = try await withQueryAPI { client in
            (try await client.get("/v1/flags?\(query)"), try await client.get("/v1/cases?\(query)"))
        }
        expectProblem(flags, 400, mentions: ["\(name):"])
        expectProblem(cases, 400, mentions: ["\(name):"])
    }

    // MARK: errors

    @Test("unknown case, contract or area: 404 problem+json naming it")
    func notFound() async throws {
        let (caseView, timeline, contract, area) = try await withQueryAPI { client in
            (try await client.get("/v1/cases/X999999"), try await client.get("/v1/cases/X999999/timeline"),
             try await client.get("/v1/contracts/CT-9999/performance"), try await client.get("/v1/areas/wales/summary"))
        }
        expectProblem(caseView, 404, mentions: ["case X999999", qNow.rfc3339])
        expectProblem(timeline, 404, mentions: ["case X999999"])
        expectProblem(contract, 404, mentions: ["contract CT-9999"])
        expectProblem(area, 404, mentions: ["area wales"])
    }

    @Test("bad asOf or knownAt: 400 naming the parameter, on every view route",
          arguments: ["/v1/cases", "/v1/cases/X000001", "/v1/cases/X000001/timeline", "/v1/flags",
                      "/v1/contracts/CT-0001/performance", "/v1/areas/london-north/summary", "/v1/view/digest"])
    func badTime(route: String) async throws {
        let (asOf, knownAt) = try await withQueryAPI { client in
            (try await client.get("\(route)?asOf=yesterday"), try await client.get("\(route)?knownAt=2025-02-30T00:00:00Z"))
        }
        expectProblem(asOf, 400, mentions: ["asOf:", "RFC 3339", "yesterday"])
        expectProblem(knownAt, 400, mentions: ["knownAt:"])
    }

    @Test("unknown rule: 400 listing every known rule; bad agency or open: 400 naming them")
    func badFlagFilters() async throws {
        let (rule, agency, open) = try await withQueryAPI { client in
            (try await client.get("/v1/flags?rule=late-lunch"), try await client.get("/v1/flags?agency=police"),
             try await client.get("/v1/flags?open=maybe"))
        }
        expectProblem(rule, 400, mentions: ["rule:", "late-lunch"] + FlagRule.allCases.map(\.rawValue))
        expectProblem(agency, 400, mentions: ["agency:", "police"])
        expectProblem(open, 400, mentions: ["open:", "maybe"])
    }

    @Test("unknown route: 404 problem+json")
    func unknownRoute() async throws {
        let exchange = try await withQueryAPI { try await $0.get("/v1/nothing-here") }
        expectProblem(exchange, 404, mentions: ["/v1/nothing-here"])
    }

    // MARK: operations

    @Test("/ready: 503 with the lag while the consumer lags, 200 at lag 0, 503 problem when the lag cannot be read")
    func readiness() async throws {
        let lag = LagSource(7)
        let (lagging, caughtUp, unknown) = try await withQueryAPI(makeQueryAPI(lag: lag)) { client in
            let lagging = try await client.get("/ready")
            lag.set(0)
            let caughtUp = try await client.get("/ready")
            lag.set(nil)
            return (lagging, caughtUp, try await client.get("/ready"))
        }
        #expect(lagging.status == 503)
        #expect(lagging.contentType == "application/json")
        let json = lagging.json()
        #expect(json["ready"] as? Bool == false)
        #expect(json["lag"] as? Int == 7)
        #expect(int(json, "partitions/0/lag") == 7)
        #expect(int(json, "partitions/0/position") == 113)
        #expect(string(json, "partitions/0/topic") == "probation.case-events.v1")
        #expect(caughtUp.status == 200)
        #expect(caughtUp.json()["ready"] as? Bool == true)
        #expect(caughtUp.json()["lag"] as? Int == 0)
        #expect(caughtUp.json()["events"] as? Int == QueryScenario.state.eventCount)
        expectProblem(unknown, 503, mentions: ["broker unreachable"])
    }

    @Test("/health: 200 with the event count; /metrics: text/plain")
    func health() async throws {
        let (health, metrics) = try await withQueryAPI { client in
            (try await client.get("/health"), try await client.get("/metrics"))
        }
        #expect(health.status == 200)
        #expect(health.json()["status"] as? String == "ok")
        #expect(health.json()["events"] as? Int == QueryScenario.state.eventCount)
        #expect(metrics.status == 200)
        #expect(metrics.contentType.hasPrefix("text/plain"))
    }

    @Test("/openapi.json serves the OpenAPI 3.1 document, with every route of the router")
    func openAPIDocument() async throws {
        let api = makeQueryAPI()
        let routes = api.router().routes.map { ("\($0.path)", $0.method.rawValue.lowercased()) }
        let exchange = try await withQueryAPI(api) { try await $0.get("/openapi.json") }
        #expect(exchange.status == 200)
        #expect(exchange.contentType == "application/json")
        let document = exchange.json()
        let version = document["openapi"] as? String ?? ""
        #expect(version.hasPrefix("3.1."), "openapi is '\(version)'")
        let paths = document["paths"] as? [String: [String: Any]] ?? [:]
        #expect(routes.count >= 11)
        for (path, method) in routes {
            #expect(paths[path]?[method] != nil, "\(method.uppercased()) \(path) is not in openapi.json")
        }
        #expect(Set(paths.keys) == Set(routes.map(\.0)), "openapi.json documents paths the router does not serve")
        let onDisk = try Data(contentsOf: repoRoot.appendingPathComponent("Sources/AccordProjector/Resources/openapi.json"))
        #expect(Data(exchange.body) == onDisk, "the served document is not the repository's openapi.json")
    }

    // MARK: the contract test

    /// One request of every route and every status the tests above exercise.
    static let contractRequests: [(uri: String, status: Int)] = [
        ("/health", 200), ("/ready", 200), ("/metrics", 200), ("/openapi.json", 200),
        ("/v1/cases", 200), ("/v1/cases?area=london-south&limit=1", 200), ("/v1/cases?limit=2", 200),
        ("/v1/cases?limit=0", 400),
        ("/v1/cases/X000001", 200), ("/v1/cases/X000002", 200), ("/v1/cases/X000004", 200), ("/v1/cases/X000005", 200),
        ("/v1/cases/X000006", 200), ("/v1/cases/X000007", 200),
        ("/v1/cases/X000004?knownAt=\(qDay(20).rfc3339)", 200), ("/v1/cases/X000003?asOf=\(qDay(6.5).rfc3339)", 200),
        ("/v1/cases/X999999", 404), ("/v1/cases/X000001?asOf=yesterday", 400),
        ("/v1/cases/X000001/timeline", 200), ("/v1/cases/X000006/timeline?limit=1", 200),
        ("/v1/cases/X999999/timeline", 404), ("/v1/cases/X000001/timeline?cursor=%25%25", 400),
        ("/v1/flags", 200), ("/v1/flags?open=true&agency=interventions", 200), ("/v1/flags?limit=3", 200),
        ("/v1/flags?rule=referral-unanswered&asOf=\(qDay(6.5).rfc3339)", 200), ("/v1/flags?rule=late-lunch", 400),
        ("/v1/contracts/CT-0001/performance", 200), ("/v1/contracts/CT-0001/performance?asOf=\(qDay(-20).rfc3339)", 200),
        ("/v1/contracts/CT-9999/performance", 404), ("/v1/contracts/CT-0001/performance?knownAt=never", 400),
        ("/v1/areas/london-north/summary", 200), ("/v1/areas/london-south/summary", 200),
        ("/v1/areas/wales/summary", 404), ("/v1/areas/london-north/summary?asOf=2025-13-01T00:00:00Z", 400),
        ("/v1/view/digest", 200), ("/v1/view/digest?asOf=x", 400), ("/v1/integrity", 200),
        ("/v1/nothing-here", 404),
    ]

    @Test("contract: every response conforms to openapi.json (scripts/openapi_check.py), and a wrong one is rejected")
    func contract() async throws {
        let probe = try runCommand("python3", ["-c", "import jsonschema, referencing"])
        guard probe.status == 0 else {
            Issue.record("python3 cannot import jsonschema/referencing; run scripts/bootstrap first.\n\(probe.output)")
            return
        }
        let lag = LagSource(3)
        let exchanges = try await withQueryAPI(makeQueryAPI(lag: lag)) { client in
            var out: [Exchange] = []
            out.append(try await client.get("/ready"))  // 503 with the lag
            lag.set(nil)
            out.append(try await client.get("/ready"))  // 503 problem
            lag.set(0)
            for request in Self.contractRequests {
                let exchange = try await client.get(request.uri)
                #expect(exchange.status == request.status, "\(request.uri): \(exchange.text.prefix(300))")
                out.append(exchange)
            }
            return out
        }
        #expect(exchanges[0].status == 503 && exchanges[1].status == 503)

        let good = try temporaryDirectory("contract")
        defer { try? FileManager.default.removeItem(at: good) }
        for (n, exchange) in exchanges.enumerated() {
            try exchange.contractRecord().write(to: good.appendingPathComponent(String(format: "%03d.json", n)))
        }
        let spec = "Sources/AccordProjector/Resources/openapi.json"
        let result = try runCommand("python3", ["scripts/openapi_check.py", "--spec", spec, "--responses", good.path,
                                                "--require-every-operation"])
        #expect(result.status == 0, "openapi_check.py failed:\n\(result.output)")

        // The same check must reject a flag without `rule`.
        let flagsExchange = try #require(exchanges.first { $0.uri == "/v1/flags" })
        var flagsJSON = flagsExchange.json()
        var flagItems = items(flagsJSON)
        try #require(!flagItems.isEmpty)
        flagItems[0].removeValue(forKey: "rule")
        flagsJSON["items"] = flagItems
        let wrongBody = try JSONSerialization.data(withJSONObject: flagsJSON)
        let wrong = Exchange(method: "GET", uri: "/v1/flags", status: 200, contentType: "application/json",
                             body: Array(wrongBody))
        let bad = try temporaryDirectory("contract-wrong")
        defer { try? FileManager.default.removeItem(at: bad) }
        try wrong.contractRecord().write(to: bad.appendingPathComponent("001.json"))
        // And an undocumented status, and a timestamp that is not RFC 3339.
        var caseJSON = try #require(exchanges.first { $0.uri == "/v1/cases/X000001" }).json()
        caseJSON["asOf"] = "2025-04-02 00:00"
        let wrongCase = Exchange(method: "GET", uri: "/v1/cases/X000001", status: 200, contentType: "application/json",
                                 body: Array(try JSONSerialization.data(withJSONObject: caseJSON)))
        try wrongCase.contractRecord().write(to: bad.appendingPathComponent("002.json"))
        let teapot = Exchange(method: "GET", uri: "/v1/flags", status: 418, contentType: "application/problem+json",
                              body: Array(#"{"type":"https://accord.example/problems/teapot","title":"t","status":418,"detail":"d"}"#.utf8))
        try teapot.contractRecord().write(to: bad.appendingPathComponent("003.json"))
        let rejected = try runCommand("python3", ["scripts/openapi_check.py", "--spec", spec, "--responses", bad.path])
        #expect(rejected.status == 1, "openapi_check.py accepted wrong bodies:\n\(rejected.output)")
        #expect(rejected.output.contains("001.json: GET /v1/flags → 200: at /items/0: 'rule' is a required property"),
                "\(rejected.output)")
        #expect(rejected.output.contains("002.json") && rejected.output.contains("at /asOf"), "\(rejected.output)")
        #expect(rejected.output.contains("003.json") && rejected.output.contains("no 418 response"), "\(rejected.output)")
    }
}

@Suite("Query API methods")
struct QueryAPIMethodTests {
    @Test("every path of openapi.json answers an undeclared method with 405 problem+json naming the methods it takes; an unknown path is 404")
    func undeclaredMethodsAre405() async throws {
        let exchange = try await withQueryAPI { try await $0.get("/openapi.json") }
        let paths = try #require(exchange.json()["paths"] as? [String: [String: Any]])
        #expect(paths.count >= 10)
        let declared = paths.map { (path: $0.key, methods: $0.value.keys.filter { ["get", "post", "put", "patch", "delete", "head"].contains($0) }.map { $0.uppercased() }.sorted()) }.sorted { $0.path < $1.path }
        let answers = try await withQueryAPI { client in
            var out: [(path: String, declared: [String], status: Int, allow: String?, type: String?, body: String)] = []
            for (path, methods) in declared {
                let concrete = path.replacingOccurrences(of: #"\{[^}]+\}"#, with: "X123456", options: .regularExpression)
                let response = try await client.client.execute(uri: concrete, method: .delete)
                out.append((path, methods, Int(response.status.code), response.headers[.allow],
                            response.headers[.contentType], String(buffer: response.body)))
            }
            let unknown = try await client.client.execute(uri: "/v1/nothing-here", method: .delete)
            out.append(("/v1/nothing-here", [], Int(unknown.status.code), unknown.headers[.allow], unknown.headers[.contentType],
                        String(buffer: unknown.body)))
            return out
        }
        for answer in answers {
            if answer.declared.isEmpty {
                #expect(answer.status == 404 && answer.allow == nil, "\(answer.path): \(answer.status)")
                continue
            }
            #expect(answer.status == 405, "DELETE \(answer.path): \(answer.status) \(answer.body.prefix(200))")
            #expect(answer.type?.hasPrefix("application/problem+json") == true, "\(answer.path): \(answer.type ?? "none")")
            let allowed = Set((answer.allow ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            #expect(Set(answer.declared).isSubset(of: allowed), "\(answer.path): Allow \(answer.allow ?? "none") lacks \(answer.declared)")
            #expect(answer.body.contains("DELETE"), "\(answer.path): \(answer.body.prefix(200))")
        }
    }
}
