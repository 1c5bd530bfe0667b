import AccordProcesses
import AccordReliabilityLog
import AccordSimulation
import AccordStore
import Foundation
import Testing

/// Graceful shutdown of every process: SIGTERM to each agency service and the projector, and
/// the first Ctrl-C to `accord demo` in each of its phases (the broker's SIGTERM is tested with
/// its fault control).
@Suite("Graceful shutdown", .serialized, .tags(.broker))
struct ShutdownTests {
    @Test("SIGTERM: each agency service drains its outbox and exits 0; the projector commits what it applied and exits 0; nothing lost or doubled",
          .timeLimit(.minutes(4)))
    func sigterm() async throws {
        try await Stack.with("shutdown", partitions: 3) { stack in
            async let probation = stack.startService(.probation, Partnership.probation)
            async let provider = stack.startService(.interventions, Partnership.provider)
            async let commissioner = stack.startService(.commissioner, Partnership.commissioner)
            let services = try await [probation, provider, commissioner]
            let submissions = try Simulation(config: Partnership.config(cases: 80, seed: 31)).run().submissions
            let accepted = try await publishThroughIntake(submissions, services: services, batchSize: 500, waitForKafka: false)
            #expect(accepted == submissions.count && accepted > 1_000)

            // Right after the last 202, while the relays may still hold events: SIGTERM each service.
            var exits: [String: Int32] = [:]
            for service in services {
                exits[service.agencyId] = await service.process.stop(grace: .seconds(30))
            }
            for service in services {
                #expect(exits[service.agencyId] == 0, "\(service.agencyId) exits 0 on SIGTERM; its log:\n\(service.process.logTail())")
            }

            // With every service stopped, all they accepted must be on Kafka: the projector finds it.
            let store = stack.folder.appendingPathComponent("projector.sqlite")
            let first = try await stack.startProjector(name: "projector-stopped", store: store, batchSize: 25)
            _ = try await eventually("the projector to apply part of the backlog", timeout: .seconds(60), every: .milliseconds(5)) { note in
                let count = eventCount(try await getJSON("\(first.base)/health").object) ?? 0
                note = "\(count) events"
                return count > 0 ? true : nil
            }
            let projectorExit = await first.process.stop(grace: .seconds(30))
            #expect(projectorExit == 0, "the projector exits 0 on SIGTERM mid-stream; its log:\n\(first.process.logTail())")
            let second = try await stack.startProjector(name: "projector", store: store)
            try await stack.waitUntilCaughtUp(second, events: accepted)
            let secondExit = await second.process.stop(grace: .seconds(30))
            #expect(secondExit == 0, "the projector exits 0 on SIGTERM when idle; its log:\n\(second.process.logTail())")

            var ids: [String] = []
            try ProjectorStore(readOnlyPath: store.path).forEachJournalEntry { ids.append($0.eventId) }
            let lost = accepted - Set(ids).count
            let doubled = ids.count - Set(ids).count
            #expect(lost == 0 && doubled == 0, "lost \(lost), doubled \(doubled) of \(accepted)")
            let clean = exits.values.filter { $0 == 0 }.count + [projectorExit, secondExit].filter { $0 == 0 }.count
            ReliabilityLog.record("SIGTERM to each agency service right after its last 202, and to the projector mid-stream and idle",
                                  times: services.count + 2,
                                  outcome: "exit 0: \(clean) of \(services.count + 2); \(accepted) events accepted: lost \(lost), doubled \(doubled)",
                                  test: "ShutdownTests.sigterm")
        }
    }

    @Test("accord demo stops on the first Ctrl-C while starting, while playing and while serving: exit 0, every port free",
          .timeLimit(.minutes(6)))
    func demoInterrupted() async throws {
        let phases: [(name: String, line: String)] = [
            ("starting", "Starting the embedded broker"),
            ("playing", "All services are up"),
            ("serving", "Press Ctrl-C to stop."),
        ]
        var stopped = 0
        for phase in phases {
            let base = try Ports.block(10)
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("accord-e2e-ctrl-c-\(phase.name)-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let err = folder.appendingPathComponent("demo.stderr")
            let demo = try ChildProcess(name: "demo-\(phase.name)", executable: Binaries.path("accord"), arguments: [
                "demo", "--cases", "150", "--speed", phase.name == "playing" ? "20" : "0",
                "--port", "\(base)", "--data-dir", folder.appendingPathComponent("data").path,
            ], logFile: err)
            let stderr = { (try? String(contentsOf: err, encoding: .utf8)) ?? "" }
            do {
                _ = try await eventually("the demo to reach its \(phase.name) phase", timeout: .seconds(150)) { note in
                    guard demo.isRunning else { throw E2EError("the demo exited before \(phase.name):\n\(stderr().suffix(2000))") }
                    note = String(stderr().suffix(200))
                    return stderr().contains(phase.line) ? true : nil
                }
                kill(demo.processIdentifier, SIGINT)
                _ = try await eventually("the demo to stop after one Ctrl-C while \(phase.name)", timeout: .seconds(60)) { _ in
                    demo.isRunning ? nil : true
                }
            } catch {
                for child in ProcessTree.descendants(of: demo.processIdentifier) { kill(child, SIGKILL) }
                demo.kill()
                throw error
            }
            let status = await demo.stop(grace: .seconds(5))
            #expect(status == 0, "exit status after Ctrl-C while \(phase.name):\n\(stderr().suffix(2000))")
            #expect(stderr().contains("Stopped."), "\(phase.name): \(stderr().suffix(1000))")
            _ = try await eventually("the demo's ports to be free after Ctrl-C while \(phase.name)", timeout: .seconds(15)) { note in
                let busy = (base...(base + 9)).filter { !Ports.isFree($0) }
                note = "still in use: \(busy)"
                return busy.isEmpty ? true : nil
            }
            if status == 0 {
                stopped += 1
                try? FileManager.default.removeItem(at: folder)
            }
        }
        ReliabilityLog.record("Ctrl-C to accord demo while starting, playing and serving", times: phases.count,
                              outcome: "stopped with exit 0 and every port free: \(stopped) of \(phases.count)",
                              test: "ShutdownTests.demoInterrupted")
    }
}
