import AccordEvents
import AccordIntegrity
import AccordProjection
import AccordProjector
import AccordStore
import Foundation
import Logging
import Testing

@Suite("Query API: provisional timeline entries and /v1/integrity")
struct QueryAPIIntegrityTests {
    static func api(_ integrity: IntegrityStatus, provisional: Set<String>? = nil) -> QueryAPI {
        var logger = Logger(label: "query-api-integrity-tests")
        logger.logLevel = .critical
        let checking = integrity.snapshot().checking
        return QueryAPI(view: QueryScenario.state, integrity: integrity, lag: { [] },
                        provisional: { ids in checking ? Set(ids).intersection(provisional ?? []) : Set(ids) },
                        registry: nil, logger: logger, now: { qNow })
    }

    @Test("timeline entries say whether each event is still provisional")
    func provisionalFlag() async throws {
        let ids = QueryScenario.state.timeline("X000001", asOf: qNow).map(\.eventId)
        try #require(ids.count > 2)
        let provisional = [ids[ids.count - 1], ids[ids.count - 2]]
        let checked = IntegrityStatus(checking: true, counts: IntegrityCounts(verified: ids.count - 2, provisional: 2,
                                                                             chainCheckpoints: 3, journalCheckpoints: 0))
        let exchange = try await withQueryAPI(Self.api(checked, provisional: Set(provisional))) {
            try await $0.get("/v1/cases/X000001/timeline")
        }
        let entries = items(exchange.json())
        #expect(entries.count == ids.count)
        for entry in entries {
            let id = try #require(entry["eventId"] as? String)
            #expect(entry["provisional"] as? Bool == provisional.contains(id), "\(id)")
        }
        let unchecked = IntegrityStatus(checking: false)
        let off = try await withQueryAPI(Self.api(unchecked)) { try await $0.get("/v1/cases/X000001/timeline") }
        #expect(items(off.json()).allSatisfy { $0["provisional"] as? Bool == true }, "nothing is verified without a registry")
    }

    @Test("/v1/integrity reports verified and provisional counts and the last journal checkpoint")
    func integrityEndpoint() async throws {
        let key = try #require(AgencySigningKey.generate(signer: "urn:accord:projector:main"))
        let checkpoint = try JournalCheckpoint.signed(position: 7, entryHash: Hash256.sha256([1]), viewDigest: Hash256.sha256([2]),
                                                      issuedAt: qNow, key: key)
        let status = IntegrityStatus(checking: true, counts: IntegrityCounts(verified: 5, provisional: 2, chainCheckpoints: 3,
                                                                              journalCheckpoints: 1),
                                     lastJournalCheckpoint: checkpoint)
        let (with, without) = try await withQueryAPI(Self.api(status)) { client in
            (try await client.get("/v1/integrity"), try await withQueryAPI(Self.api(IntegrityStatus())) { try await $0.get("/v1/integrity") })
        }
        #expect(with.status == 200)
        let json = with.json()
        #expect(json["checking"] as? Bool == true)
        #expect(int(json, "verified") == 5)
        #expect(int(json, "provisional") == 2)
        #expect(int(json, "chainCheckpoints") == 3)
        #expect(int(json, "journalCheckpoints") == 1)
        #expect(int(json, "lastJournalCheckpoint/position") == 7)
        #expect(string(json, "lastJournalCheckpoint/entryHash") == Hash256.sha256([1]).hex)
        #expect(string(json, "lastJournalCheckpoint/keyId") == key.keyId)
        #expect(without.json()["lastJournalCheckpoint"] is NSNull)
    }
}
