import AccordEvents
import AccordHTTP
import AccordService
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Probation intake: case-transferred v2 and v1", .serialized, .timeLimit(.minutes(2)))
struct TransferIntakeTests {
    static let v1Data: [String: String] = ["caseId": "X400001", "fromArea": "london-north", "toArea": "west-midlands"]

    @Test("v2 naming the receiving office and v1 with areas only are both accepted and published as sent")
    func bothVersionsAccepted() async throws {
        let harness = try ServiceHarness()
        let service = try harness.service(.probation)
        let v2Data = Self.v1Data.merging(["toProbationId": "nps-midlands"]) { $1 }
        try await harness.run(service) { client in
            let response = try await HTTP.post(client, [
                ["type": "org.accord.probation.case-transferred.v2", "data": v2Data],
                ["type": "org.accord.probation.case-transferred.v1", "data": Self.v1Data],
                // The short name is the latest version.
                ["type": "case-transferred", "data": v2Data],
            ])
            #expect(response.status == .accepted, "\(String(buffer: response.body))")
        }
        let events = try await harness.events(on: .probationCaseEvents)
        #expect(events.map(\.type) == ["org.accord.probation.case-transferred.v2", "org.accord.probation.case-transferred.v1",
                                       "org.accord.probation.case-transferred.v2"])
        guard case .probation(.caseTransferred(let named))? = events.first?.payload,
              case .probation(.caseTransferred(let areasOnly))? = events.dropFirst().first?.payload else {
            Issue.record("not transfers: \(events.map(\.type))")
            return
        }
        #expect(named.toProbationId == "nps-midlands")
        #expect(areasOnly.toProbationId == nil, "the service publishes v1 as sent; consumers upcast it")
    }

    @Test("v2 without a valid receiving office is refused naming data.toProbationId")
    func v2NeedsTheOffice() async throws {
        let harness = try ServiceHarness()
        let service = try harness.service(.probation)
        let bad = Self.v1Data.merging(["toProbationId": "NPS Midlands"]) { $1 }
        let v1WithOffice = Self.v1Data.merging(["toProbationId": "nps-midlands"]) { $1 }
        try await harness.run(service) { client in
            for (type, data, reason) in [("org.accord.probation.case-transferred.v2", Self.v1Data, "missing-attribute"),
                                         ("case-transferred", Self.v1Data, "missing-attribute"),
                                         ("org.accord.probation.case-transferred.v2", bad, "invalid-value"),
                                         ("org.accord.probation.case-transferred.v1", v1WithOffice, "invalid-value")] {
                let response = try await HTTP.post(client, ["type": type, "data": data])
                #expect(response.status == .unprocessableContent, "\(type) \(data)")
                let problem = try HTTP.decode(ProblemDetails.self, response)
                let error = try #require(problem.errors?.first)
                #expect(error.field == "data.toProbationId", "\(type): \(error)")
                #expect(error.pointer == "/data/toProbationId", "\(type): \(error)")
                #expect(error.reason == reason, "\(type): \(error)")
            }
        }
        #expect(try await harness.events(on: .probationCaseEvents).isEmpty)
    }
}
