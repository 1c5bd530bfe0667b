import AccordEvents
import AccordProcesses
import AccordSimulation
import AccordReliabilityLog
import Foundation
import Testing

/// Verified backfill against the real executables: the projector fetches what the broker no
/// longer has from the agency service over HTTP.
@Suite("Backfill from the agency services", .serialized, .tags(.broker))
struct BackfillEndToEndTests {
    @Test("A projector that starts after the broker dropped the oldest records of a topic fetches them from their source's chain range and verifies them: every accepted event reaches the view, /ready and /v1/integrity say nothing is missing",
          .timeLimit(.minutes(4)))
    func fillsWhatTheBrokerDropped() async throws {
        try await Stack.with("backfill", partitions: 1) { stack in
            let probation = try await stack.startService(.probation, Partnership.probation)
            // Enough probation events on one partition that the embedded broker (about 5 MB kept
            // per partition) drops the oldest before the projector starts.
            let simulation = try Simulation(config: Partnership.config(cases: 2_500, seed: 31))
            let submissions = simulation.run().submissions.filter { $0.agency == .probation }
            let accepted = try await publishThroughIntake(submissions, services: [probation], batchSize: 500)
            #expect(accepted == submissions.count)
            let replay = try await TopicReplay.read(bootstrap: stack.bootstrap, partitions: 1,
                                                    topics: [AccordTopic.probationCaseEvents.name])
            stack.trace("published \(accepted); the topic still holds \(replay.distinctEvents)")
            try #require(replay.distinctEvents < accepted, "the broker must have dropped records for this test to mean anything")

            let registry = stack.folder.appendingPathComponent("registry.json")
            let keys = try await runToCompletion(Binaries.path("accord"), [
                "keys", "registry", stack.folder.appendingPathComponent("\(Partnership.probation).signing-key.json").path,
                "--out", registry.path, "--valid-from", "2020-01-01T00:00:00Z",
            ], folder: stack.folder, name: "keys-registry", timeout: .seconds(60))
            #expect(keys.status == 0, "\(keys.stderr)")
            let projector = try await stack.startProjector(store: stack.folder.appendingPathComponent("projector.sqlite"), arguments: [
                "--key-registry", registry.path, "--chain-endpoint", "\(probation.source)=\(probation.base)",
            ])
            try await stack.waitUntilCaughtUp(projector, events: accepted, timeout: .seconds(150))
            // The service's last checkpoint (at most its checkpoint interval after the last event) verifies the tail.
            let integrity = try await eventually("every event verified", timeout: .seconds(60)) { note -> [String: Any]? in
                let (_, integrity) = try await getJSON("\(projector.base)/v1/integrity")
                note = "\(integrity["provisional"] ?? "?") provisional"
                return integrity["provisional"] as? Int == 0 ? integrity : nil
            }
            let backfilled = integrity["backfilled"] as? Int ?? -1
            #expect(backfilled == accepted - replay.distinctEvents, "the events the broker dropped came from the service: \(integrity)")
            #expect((integrity["pendingChains"] as? [Any])?.isEmpty == true, "\(integrity)")
            #expect(integrity["unreadRecords"] as? Int == 0, "the skipped range is recovered: \(integrity)")
            let metrics = try await HTTPProbe.get("\(projector.base)/metrics").text
            #expect(metrics.contains("accord_projector_events_backfilled_total \(backfilled)"), "\(metrics.prefix(2_000))")
            let (_, ready) = try await getJSON("\(projector.base)/ready")
            ReliabilityLog.record("records the broker dropped before the projector read them (retention)",
                                  times: accepted - replay.distinctEvents,
                                  outcome: "\(backfilled) fetched from the source's chain range and verified; in the view "
                                    + "\(ready["events"] as? Int ?? -1) of \(accepted); pending chains "
                                    + "\((integrity["pendingChains"] as? [Any])?.count ?? -1), unread \(integrity["unreadRecords"] as? Int ?? -1)",
                                  test: "BackfillEndToEndTests")
        }
    }
}
