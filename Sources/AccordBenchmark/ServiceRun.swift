import AccordEvents
import AccordProcesses
import AccordSimulation
import Foundation

/// One agency service executable (e.g. `probation-service`) started by the benchmark.
final class ServiceRun: Sendable {
    /// The process.
    let process: ChildProcess
    /// The port of its HTTP intake.
    let port: Int

    private init(process: ChildProcess, port: Int) {
        self.process = process
        self.port = port
    }

    /// Starts `<kind>-service` for `agencyId` on `bootstrap` with the signing key `keyFile`, and
    /// waits until `/health` answers 200 (it has read its own topic to continue its chains).
    static func start(_ context: BenchContext, kind: AgencyKind, agencyId: String, bootstrap: String,
                      keyFile: URL) async throws -> ServiceRun {
        var lastError = "not started"
        for _ in 1...3 {
            let port = try BenchProcesses.freePort()
            let process = try context.processes.launch("\(kind.rawValue)-service-\(agencyId)", "\(kind.rawValue)-service", [
                "--bootstrap-servers", bootstrap, "--agency-id", agencyId, "--port", "\(port)",
                "--signing-key", keyFile.path,
                "--consumer-property", "session.timeout.ms=6000", "--consumer-property", "heartbeat.interval.ms=500",
            ])
            do {
                try await HTTPWait.untilOK(port: port, path: "/health", timeout: .seconds(900), interval: .milliseconds(100)) {
                    process.isRunning
                }
                return ServiceRun(process: process, port: port)
            } catch {
                lastError = "\(error)"
                let tail = process.logTail(lines: 30)
                await context.processes.stop(process)
                if !tail.lowercased().contains("in use") {
                    throw BenchError("\(kind.rawValue)-service \(agencyId) did not start: \(error); its log:\n\(tail)")
                }
            }
        }
        throw BenchError("\(kind.rawValue)-service \(agencyId) did not start: \(lastError)")
    }

    /// Stops it (SIGTERM; it signs its last checkpoints first).
    func stop(_ context: BenchContext) async {
        await context.processes.stop(process, grace: .seconds(60))
    }
}

/// Probation submissions for one office from the seeded simulation, for the HTTP intake steps.
enum ProbationFeed {
    /// At least `count` probation submissions of office `agencyId` (covering every simulated area),
    /// in time order, whose cases are not in `excluded`.
    static func make(count: Int, agencyId: String, seed: UInt64, excluding excluded: Set<String> = []) throws -> [Submission] {
        var events = count * 3
        for _ in 0..<4 {
            let plan = try WorkloadPlan.make(events: events, seed: seed) { cases in
                let areas = SimulationConfig.defaultProbationOffices.flatMap(\.areas)
                return SimulationConfig(cases: cases, probationOffices: [ProbationOffice(id: agencyId, areas: areas, weight: 1)])
            }
            let probation = plan.submissions.filter { $0.agency == .probation && !excluded.contains($0.subject) }
            if probation.count >= count { return Array(probation.prefix(count)) }
            events = events * count / max(1, probation.count) + 1_000
        }
        throw BenchError("the simulation gave too few probation events for \(count)")
    }
}
