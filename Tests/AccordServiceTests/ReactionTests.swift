import AccordEvents
import AccordHTTP
import AccordProjection
import AccordRuntime
import AccordService
import Foundation
import HummingbirdTesting
import Testing

@Suite("Reactions derived from other agencies' topics", .serialized, .timeLimit(.minutes(2)))
struct ReactionTests {
    static let referralTime = EventSamples.defaultStart

    @Test("a referral to this provider appears on its worklist and leaves it once accepted through the intake")
    func referralWorklist() async throws {
        let harness = try ServiceHarness()
        // A contract with 3 response days, and two referrals: one to this provider, one to another.
        let contract = AccordEvent(
            id: UUID(), source: EventSamples.commissionerSource, time: Self.referralTime, sequence: 1,
            payload: ContractAwarded(
                contractId: "CT-0007", commissionerId: "pcc-west", providerId: "ace-payback", interventionType: .unpaidWork,
                area: "london-north", periodStart: EventSamples.defaultDate,
                periodEnd: EventSamples.defaultDate.adding(days: 365) ?? EventSamples.defaultDate,
                price: Money(amountMinor: 1_000_000), paymentByResults: PaymentByResults(outcomePaymentShare: 0.2, outcomeMetric: .completion),
                serviceLevels: ServiceLevels(referralResponseDays: 3, startWithinDays: 10, minimumCompletionRate: 0.7),
                maxRiskLevel: .high).payload)
        let mine = AccordEvent(
            id: UUID(), source: EventSamples.probationSource, time: Self.referralTime, sequence: 1,
            payload: InterventionReferred(caseId: "X700001", referralId: "REF-1", contractId: "CT-0007", providerId: "ace-payback",
                                          interventionType: .unpaidWork, dueBy: EventSamples.defaultDate).payload)
        let theirs = AccordEvent(
            id: UUID(), source: EventSamples.probationSource, time: Self.referralTime, sequence: 2,
            payload: InterventionReferred(caseId: "X700002", referralId: "REF-2", contractId: "CT-0008", providerId: "other-provider",
                                          interventionType: .drugTreatment, dueBy: EventSamples.defaultDate).payload)
        let unknownContract = AccordEvent(
            id: UUID(), source: EventSamples.probationSource, time: Self.referralTime.adding(seconds: 60) ?? Self.referralTime,
            sequence: 3,
            payload: InterventionReferred(caseId: "X700003", referralId: "REF-3", contractId: "CT-0009", providerId: "ace-payback",
                                          interventionType: .curfewMonitoring, dueBy: EventSamples.defaultDate).payload)
        try await harness.produce([contract, mine, theirs, unknownContract])

        try await harness.run(try harness.service(.interventions)) { client in
            // Both referrals, with the contract's response days once the commissioning topic is read too.
            try await waitUntil("both referrals on the worklist with the contract's terms") {
                let items = try Self.worklist(await client.execute(uri: "/v1/worklist", method: .get))
                return items.count == 2 && items.first?["contractKnown"] as? Bool == true
            }
            let items = try Self.worklist(await client.execute(uri: "/v1/worklist", method: .get))
            #expect(items.map { $0["referralId"] as? String } == ["REF-1", "REF-3"])
            #expect(items.first?["respondBy"] as? String == "2025-03-06T09:00:00Z")
            #expect(items.first?["caseId"] as? String == "X700001")
            #expect(items.first?["contractId"] as? String == "CT-0007")
            #expect(items.last?["respondBy"] as? String == "2025-03-08T09:01:00Z")

            let accept = try await HTTP.post(client, ["type": "referral-accepted", "data": [
                "caseId": "X700001", "referralId": "REF-1", "providerId": "ace-payback"]])
            #expect(accept.status == .accepted)
            let after = try Self.worklist(await client.execute(uri: "/v1/worklist", method: .get))
            #expect(after.map { $0["referralId"] as? String } == ["REF-3"])
        }
    }

    @Test("a curfew violation on this agency's case appears on the enforcement worklist and leaves it after an action")
    func enforcementWorklist() async throws {
        let harness = try ServiceHarness()
        let detected = EventSamples.defaultStart
        let violation = AccordEvent(
            id: UUID(), source: EventSamples.interventionsSource, time: detected, sequence: 1,
            payload: CurfewViolationDetected(caseId: "X800001", referralId: "REF-9", providerId: "ace-payback",
                                             violationId: "CV-1", detectedAt: detected, durationMinutes: 45).payload)
        let notOurCase = AccordEvent(
            id: UUID(), source: EventSamples.interventionsSource, time: detected, sequence: 2,
            payload: CurfewViolationDetected(caseId: "X899999", referralId: "REF-8", providerId: "ace-payback",
                                             violationId: "CV-2", detectedAt: detected, durationMinutes: 30).payload)
        try await harness.produce([violation, notOurCase])

        try await harness.run(try harness.service(.probation)) { client in
            #expect(try await HTTP.post(client, ["type": "case-opened", "time": "2025-03-01T09:00:00Z",
                                                 "data": try HTTP.data(.caseOpened, subject: "X800001")]).status == .accepted)
            // The provider's report calls for a decision because the referral was made to it.
            #expect(try await HTTP.post(client, ["type": "intervention-referred", "time": "2025-03-02T09:00:00Z", "data": [
                "caseId": "X800001", "referralId": "REF-9", "contractId": "CT-0001", "providerId": "ace-payback",
                "interventionType": "curfew-monitoring", "dueBy": "2025-03-20"]]).status == .accepted)
            try await waitUntil("the violation on the worklist") {
                try Self.worklist(await client.execute(uri: "/v1/worklist", method: .get)).count == 1
            }
            let item = try #require(try Self.worklist(await client.execute(uri: "/v1/worklist", method: .get)).first)
            #expect(item["caseId"] as? String == "X800001")
            #expect(item["event"] as? String == "curfew-violation-detected")
            #expect(item["providerId"] as? String == "ace-payback")
            #expect(item["occurredAt"] as? String == "2025-03-03T09:00:00Z")
            #expect(item["decideBy"] as? String == "2025-03-10T09:00:00Z")

            let action = try await HTTP.post(client, ["type": "enforcement-action-taken", "time": "2025-03-04T10:00:00Z", "data": [
                "caseId": "X800001", "action": "warning", "failureIds": [String]()] as [String: Any]])
            #expect(action.status == .accepted)
            #expect(try Self.worklist(await client.execute(uri: "/v1/worklist", method: .get)).isEmpty)
        }
    }

    @Test("the commissioner answers contract alerts from its alert source, and 503 without one")
    func commissionerAlerts() async throws {
        let harness = try ServiceHarness()
        let alerts = FixedAlerts(alerts: [ContractAlert(contractId: "CT-0001", providerId: "ace-payback",
                                                        flag: "contract-below-service-level",
                                                        serviceLevel: "minimumCompletionRate", detail: "40% < 60%")])
        try await harness.run(try harness.service(.commissioner, alertSource: alerts)) { client in
            let response = try await client.execute(uri: "/v1/alerts?asOf=2025-06-01T00:00:00Z", method: .get)
            #expect(response.status == .ok)
            let body = try HTTP.json(response)
            #expect(body["asOf"] as? String == "2025-06-01T00:00:00Z")
            #expect((body["alerts"] as? [[String: Any]])?.first?["contractId"] as? String == "CT-0001")
            let invalid = try await client.execute(uri: "/v1/alerts?asOf=yesterday", method: .get)
            #expect(invalid.status == .badRequest)
        }
        try await harness.run(try harness.service(.commissioner)) { client in
            let response = try await client.execute(uri: "/v1/alerts", method: .get)
            #expect(response.status == .serviceUnavailable)
        }
    }

    static func worklist(_ response: TestResponse) throws -> [[String: Any]] {
        #expect(response.status == .ok)
        return try #require(try HTTP.json(response)["items"] as? [[String: Any]])
    }
}

/// Contract alerts from a fixed list, for `commissioner-service`'s alert route.
struct FixedAlerts: ContractAlertSource {
    let alerts: [ContractAlert]

    func apply(_ events: [IncomingEvent]) {}

    func alerts(commissionerId: String, asOf: Timestamp) throws -> [ContractAlert] { alerts }
}
