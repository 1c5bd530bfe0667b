import AccordEvents
import AccordIntegrity
import AccordProjection
@testable import AccordProjector
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

    @Test("/v1/integrity and /ready name a source flagged for a chain gap it does not fill")
    func flaggedSource() async throws {
        let status = IntegrityStatus(checking: true)
        let source = "urn:accord:probation:nps-london"
        let since = try #require(Timestamp(rfc3339: "2026-01-05T10:00:00Z"))
        status.setPending([
            IntegrityStatus.PendingChain(chain: ChainID(source: source, topic: "probation.case-events.v1", partition: 2),
                                         cause: .brokenLink, held: 40, lastError: "http://127.0.0.1:9/v1/chains cannot be reached",
                                         retrying: true, failingSince: since, flagged: true),
            IntegrityStatus.PendingChain(chain: ChainID(source: "urn:accord:commissioner:pcc-west", topic: "commissioning.contract-events.v1", partition: 0),
                                         cause: .unreadRecords, held: 3, lastError: nil, retrying: true),
        ])
        let (integrity, ready) = try await withQueryAPI(Self.api(status)) { client in
            (try await client.get("/v1/integrity"), try await client.get("/ready"))
        }
        let flags = try #require(integrity.json()["sourceFlags"] as? [[String: Any]])
        #expect(flags.count == 1, "only the chain that failed long enough flags its source: \(flags)")
        #expect(flags.first?["source"] as? String == source)
        #expect(flags.first?["chains"] as? [String] == ["probation.case-events.v1/2"])
        #expect(flags.first?["held"] as? Int == 40)
        #expect(flags.first?["since"] as? String == "2026-01-05T10:00:00Z")
        #expect((flags.first?["reason"] as? String)?.contains("cannot be reached") == true)
        let pending = try #require(integrity.json()["pendingChains"] as? [[String: Any]])
        #expect(pending.map { $0["flagged"] as? Bool } == [true, false])
        #expect(ready.status == 503)
        let reasons = ready.json()["reasons"] as? [String] ?? []
        #expect(reasons.contains { $0.contains("flagged: \(source)") }, "\(reasons)")
        // Both answers conform to openapi.json.
        let folder = try temporaryDirectory("flagged-source")
        defer { try? FileManager.default.removeItem(at: folder) }
        try integrity.contractRecord().write(to: folder.appendingPathComponent("000.json"))
        try ready.contractRecord().write(to: folder.appendingPathComponent("001.json"))
        let check = try runCommand("python3", ["scripts/openapi_check.py", "--spec", "Sources/AccordProjector/Resources/openapi.json",
                                               "--responses", folder.path])
        #expect(check.status == 0, "openapi_check.py failed:\n\(check.output)")
    }
}
