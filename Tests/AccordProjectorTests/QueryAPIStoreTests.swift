import AccordEvents
import AccordProjection
import AccordProjector
import AccordStore
import AccordTestSupport
import Foundation
import Testing

/// The query API over the projector's SQLite store answers exactly like the API over the
/// in-memory reference, for the present (from the store's indexes), the past and "as shown".
@Suite("Query API over the stored view agrees with the reference")
struct QueryAPIStoreTests {
    static let uris: [String] = [
        "/v1/cases", "/v1/cases?area=london-south", "/v1/cases?area=london-north", "/v1/cases?asOf=\(qDay(3).rfc3339)",
        "/v1/cases/X000001", "/v1/cases/X000002", "/v1/cases/X000003", "/v1/cases/X000004", "/v1/cases/X000005",
        "/v1/cases/X000006", "/v1/cases/X000007", "/v1/cases/X999999",
        "/v1/cases/X000004?knownAt=\(qDay(20).rfc3339)", "/v1/cases/X000003?asOf=\(qDay(6.5).rfc3339)",
        "/v1/cases/X000001?asOf=2025-03-01T00:00:00Z",
        "/v1/cases/X000001/timeline", "/v1/cases/X000004/timeline?knownAt=\(qDay(20).rfc3339)", "/v1/cases/X999999/timeline",
        "/v1/flags", "/v1/flags?open=true", "/v1/flags?open=true&agency=interventions", "/v1/flags?open=true&agency=probation",
        "/v1/flags?agency=urn:accord:probation:nps-london", "/v1/flags?open=true&area=london-north",
        "/v1/flags?rule=referral-unanswered&asOf=\(qDay(6.5).rfc3339)", "/v1/flags?rule=referral-unanswered&asOf=\(qDay(7.5).rfc3339)",
        "/v1/flags?open=true&asOf=\(qDay(12).rfc3339)", "/v1/flags?knownAt=\(qDay(20).rfc3339)", "/v1/flags?subject=X000001",
        "/v1/flags?open=true&rule=sequence-gap",
        "/v1/contracts/CT-0001/performance", "/v1/contracts/CT-0001/performance?asOf=\(qDay(10).rfc3339)",
        "/v1/contracts/CT-0001/performance?knownAt=\(qDay(20).rfc3339)", "/v1/contracts/CT-9999/performance",
        "/v1/areas/london-north/summary", "/v1/areas/london-south/summary", "/v1/areas/wales/summary",
        "/v1/areas/london-north/summary?asOf=\(qDay(10).rfc3339)", "/v1/areas/london-north/summary?knownAt=\(qDay(20).rfc3339)",
        "/v1/view/digest", "/v1/view/digest?asOf=\(qDay(4).rfc3339)", "/v1/view/digest?knownAt=\(qDay(20).rfc3339)",
    ]

    /// A body as JSON with the cursor left out (the two views page with different cursors).
    static func comparable(_ exchange: Exchange) -> NSDictionary {
        var json = exchange.json()
        json.removeValue(forKey: "nextCursor")
        return json as NSDictionary
    }

    @Test("every question, at every instant, gets the same status and body")
    func sameAnswers() async throws {
        let store = try #require(QueryScenario.store)
        let reference = makeQueryAPI()
        let stored = makeQueryAPI(view: StoreViewReader(store: store, rules: .defaults))
        for uri in Self.uris {
            let expected = try await withQueryAPI(reference) { try await $0.get(uri) }
            let got = try await withQueryAPI(stored) { try await $0.get(uri) }
            #expect(got.status == expected.status, "\(uri)")
            #expect(Self.comparable(got) == Self.comparable(expected), "\(uri): \(got.text.prefix(400)) vs \(expected.text.prefix(400))")
        }
    }

    @Test("paging through flags and cases with the store's cursors gives the whole list once")
    func paging() async throws {
        let store = try #require(QueryScenario.store)
        let stored = makeQueryAPI(view: StoreViewReader(store: store, rules: .defaults))
        for base in ["/v1/flags?limit=2", "/v1/flags?open=true&limit=1", "/v1/cases?limit=3"] {
            let whole = try await withQueryAPI(makeQueryAPI()) { try await $0.get(base.replacingOccurrences(of: "limit=", with: "x=")) }
            var collected: [NSDictionary] = []
            var cursor: String?
            var pages = 0
            repeat {
                let uri = base + (cursor.map { "&cursor=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0)" } ?? "")
                let page = try await withQueryAPI(stored) { try await $0.get(uri) }
                #expect(page.status == 200, "\(uri)")
                collected += items(page.json()).map { $0 as NSDictionary }
                #expect(int(page.json(), "total") == int(whole.json(), "total"), "\(uri)")
                cursor = page.json()["nextCursor"] as? String
                pages += 1
            } while cursor != nil && pages < 100
            #expect(collected == items(whole.json()).map { $0 as NSDictionary }, "\(base)")
            #expect(pages > 1)
        }
    }
}
