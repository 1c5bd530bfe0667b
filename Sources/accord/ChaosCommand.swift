import AccordAudit
import AccordEvents
import AccordIntegrity
import AccordProcesses
import AccordSimulation
import AccordStore
import ArgumentParser
import Foundation

/// `accord chaos`: the demo's processes under crashes. Publishes a simulated caseload through the
/// agency services while SIGKILLing the projector and the services at random moments, restarting
/// each with its own command line; then proves that nothing accepted was lost or doubled.
struct ChaosCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chaos",
        abstract: "Crash the projector and the agency services during an ingest, then check that nothing accepted was lost or doubled.",
        discussion: """
        Starts the same processes as `accord demo` (embedded broker, one service per agency, projector), \
        publishes a seeded caseload through the services' HTTP intake, and meanwhile kills (SIGKILL) the \
        projector --projector-kills times and every agency service --service-kills times, at random \
        moments about --interval seconds apart, restarting each with its own command line. Between the \
        kills it injects --broker-faults faults through the embedded broker's fault control (3 brokers): \
        a broker down and up again, leader moves, errors on Produce, Fetch, OffsetCommit and JoinGroup, \
        high round-trip times, each kind in turn. The publisher \
        retries while a service restarts, so an event may be sent twice. Once every kill is done, every \
        outbox has drained and the projector is ready, it stops the projector and checks its store:

          lost       events a service answered 202 for that are not in the journal
          doubled    journal entries beyond the first for one event id
          rebuild    differences between the view and a clean rebuild from the journal, and from Kafka
          audit      `accord audit verify`: journal intact, complete, no sequence gap

        and prints one line: `lost: N, doubled: N, …`. Exit status 0 when every count is 0, 1 otherwise.
        --quick is a short run (150 cases, 3 projector kills, 1 per service, each broker fault once) for the test suite.
        """)

    @Option(help: "Number of cases to simulate (default 2,400: about 50,000 events; --quick: 150).")
    var cases: Int?

    @Option(help: "Seed of the simulation and of the kill schedule.")
    var seed: UInt64 = 2025

    @Option(name: .customLong("projector-kills"), help: "Times the projector is killed (default 20; --quick: 3).")
    var projectorKills: Int?

    @Option(name: .customLong("service-kills"), help: "Times each agency service is killed (default 2; --quick: 1).")
    var serviceKills: Int?

    @Option(name: .customLong("broker-faults"),
            help: "Broker faults injected through the embedded broker's fault control, every kind in turn (default 14; --quick: 7; 0: none).")
    var brokerFaults: Int?

    @Option(name: .customLong("projector-down"),
            help: "Seconds the projector stays down after each kill, while the services go on publishing (default: a random 0 to 1.5 s).")
    var projectorDown: Double?

    @Option(help: "Mean seconds between two kills or faults (default 6; --quick: 2).")
    var interval: Double?

    @Option(help: "Port of the projector's query API; agency services take the following ports.")
    var port: Int = 8280

    @Option(help: "Partitions per topic on the embedded broker (default: as `accord demo` sizes them).")
    var partitions: Int?

    @Option(help: "Folder for the store, keys and every process's log (recreated on start).")
    var dataDir: String = ".accord-chaos"

    @Flag(help: "A short run for the test suite: 150 cases, 3 projector kills, 1 per service, each broker fault once, 2 s apart.")
    var quick = false

    func validate() throws {
        if let cases, cases < 1 { throw ValidationError("--cases must be at least 1, got \(cases)") }
        if let projectorKills, projectorKills < 0 { throw ValidationError("--projector-kills must be 0 or more, got \(projectorKills)") }
        if let brokerFaults, brokerFaults < 0 { throw ValidationError("--broker-faults must be 0 or more, got \(brokerFaults)") }
        if let serviceKills, serviceKills < 0 { throw ValidationError("--service-kills must be 0 or more, got \(serviceKills)") }
        if let projectorDown, !(0...3_600).contains(projectorDown) {
            throw ValidationError("--projector-down must be between 0 and 3600 seconds, got \(projectorDown)")
        }
        if let interval, !(interval > 0) { throw ValidationError("--interval must be more than 0 seconds, got \(interval)") }
        guard (1...65_000).contains(port) else { throw ValidationError("--port must be a TCP port, got \(port)") }
        if let partitions, !(1...1_000).contains(partitions) {
            throw ValidationError("--partitions must be between 1 and 1000, got \(partitions)")
        }
    }

    func run() async throws {
        let plan = ChaosPlan(cases: cases ?? (quick ? 150 : 2_400), projectorKills: projectorKills ?? (quick ? 3 : 20),
                             serviceKills: serviceKills ?? (quick ? 1 : 2),
                             brokerFaults: brokerFaults ?? (quick ? ChaosFault.allCases.count : 2 * ChaosFault.allCases.count),
                             interval: interval ?? (quick ? 2 : 6), projectorDown: projectorDown, seed: seed)
        let simulation = try Simulation(config: SimulationConfig(cases: plan.cases, seed: seed, start: DemoCommand.aYearAgo()))
        let simulated = simulation.run()
        let submissions = DemoCommand.recorded(simulated.submissions, as: simulation.delivered(simulated), now: Date())
        let data = URL(fileURLWithPath: dataDir, isDirectory: true)
        try? FileManager.default.removeItem(at: data)
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let config = simulation.config
        let agencies = config.probationOffices.count + config.providers.count + config.commissioners.count
        // The fault control takes the port after the agency services'.
        let stack = DemoStack(binaries: DemoCommand.binaries, data: data, projectorPort: port,
                              partitions: partitions ?? DemoCommand.partitions(for: simulated.submissions),
                              brokers: plan.brokerFaults > 0 ? ChaosFault.brokers : 1,
                              faultPort: plan.brokerFaults > 0 ? port + agencies + 1 : nil)
        let run = ChaosRun(stack: stack, plan: plan)
        var outcome: ChaosOutcome?
        let interrupted: Bool
        do {
            interrupted = try await stack.runUnlessSignalled {
                let result = try await run.play(config: simulation.config, submissions: submissions)
                run.finish(result)
            }
            outcome = run.result
        } catch {
            ChaosRun.say("accord chaos: \(error)")
            await stack.stopAll()
            throw ExitCode(1)
        }
        await stack.stopAll()
        if interrupted {
            ChaosRun.say("Interrupted: stopped every process.")
            throw ExitCode(130)
        }
        guard let outcome else { throw ExitCode(1) }
        FileHandle.standardOutput.write(Data((outcome.summary + "\n").utf8))
        for problem in outcome.problems { ChaosRun.say("  \(problem)") }
        if !outcome.passed { throw ExitCode(1) }
    }
}

/// How many crashes, how far apart.
struct ChaosPlan: Sendable {
    let cases: Int
    let projectorKills: Int
    let serviceKills: Int
    let brokerFaults: Int
    let interval: Double
    /// Seconds the projector stays down after a kill (nil: a random 0 to 1.5 s).
    let projectorDown: Double?
    let seed: UInt64
}

/// What a chaos run found.
struct ChaosOutcome: Sendable {
    var accepted = 0
    var journaled = 0
    var lost = 0
    var doubled = 0
    var projectorKills = 0
    var serviceKills = 0
    var brokerFaults = 0
    var rebuildDifferences = 0
    var auditFindings = 0
    var problems: [String] = []

    var passed: Bool { lost == 0 && doubled == 0 && rebuildDifferences == 0 && auditFindings == 0 && problems.isEmpty }

    /// `lost: 0, doubled: 0, …`: the line the test suite and `docs/reliability.md` read.
    var summary: String {
        "lost: \(lost), doubled: \(doubled), rebuild differences: \(rebuildDifferences), audit findings: \(auditFindings), "
            + "accepted: \(accepted), journaled: \(journaled), projector kills: \(projectorKills), service kills: \(serviceKills), "
            + "broker faults: \(brokerFaults)"
    }
}

/// One chaos run over a started stack.
final class ChaosRun: @unchecked Sendable {
    // @unchecked: `result` is written once by the run's task before `runUnlessSignalled` returns
    // and read after it, by the command's task.
    let stack: DemoStack
    let plan: ChaosPlan
    private(set) var result: ChaosOutcome?

    init(stack: DemoStack, plan: ChaosPlan) {
        self.stack = stack
        self.plan = plan
    }

    func finish(_ outcome: ChaosOutcome) { result = outcome }

    static func say(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Starts the stack, publishes while crashing processes, waits for recovery and checks.
    func play(config: SimulationConfig, submissions: [Submission]) async throws -> ChaosOutcome {
        try await stack.start(config: config)
        let services = stack.agencyEndpoints
        Self.say("Chaos: \(submissions.count) events about \(plan.cases) cases through \(services.count) agency services; "
                 + "killing the projector \(plan.projectorKills)× and each service \(plan.serviceKills)×, "
                 + "injecting \(plan.brokerFaults) broker faults, about every \(plan.interval) s…")
        let killer = Task { try await self.crash(services: services) }
        let report: PublishReport
        do {
            report = try await stack.play(submissions, speed: pace(config: config, services: services.count),
                                          startTime: config.startTime)
        } catch {
            killer.cancel()
            _ = try? await killer.value
            throw error
        }
        let kills = try await killer.value
        var outcome = ChaosOutcome()
        outcome.accepted = report.accepted
        outcome.projectorKills = kills.projector
        outcome.serviceKills = kills.services
        outcome.brokerFaults = kills.faults
        if !report.rejected.isEmpty {
            outcome.problems.append("\(report.rejected.count) events refused by the intake: \(report.rejected.prefix(3).map(\.reason))")
        }
        Self.say("Published \(report.accepted) events; \(kills.projector) projector and \(kills.services) service kills, "
                 + "\(kills.faults) broker faults. Waiting for every outbox and the projector…")
        let caught = try await stack.waitUntilCaughtUp(expected: report.accepted)
        try await waitUntilReady(expected: report.accepted, seen: caught.events)
        // The store is checked at rest: the projector commits what it applied and stops.
        if let projector = stack.process(named: "projector") { await projector.stop(grace: .seconds(30)) }
        try await check(submissions: submissions, into: &outcome)
        return outcome
    }

    /// Simulated days per second so that publishing lasts about as long as the kills take, and
    /// every kill falls in the middle of the ingest rather than after it.
    private func pace(config: SimulationConfig, services: Int) -> Double {
        let kills = plan.projectorKills + plan.serviceKills * services + plan.brokerFaults
        guard kills > 0 else { return 0 }
        let days = Double(config.endTime.secondsSinceEpoch - config.startTime.secondsSinceEpoch) / 86_400
        let down = Double(plan.projectorKills) * (plan.projectorDown ?? 0)
        return max(days, 1) / (Double(kills) * plan.interval + down)
    }

    /// One step of the schedule: a process to kill, or a broker fault to inject.
    private enum Step {
        case kill(String)
        case fault(ChaosFault)
    }

    /// Kills processes and injects broker faults at random moments until every planned one is
    /// done; returns the counts.
    private func crash(services: [DemoStack.AgencyEndpoint]) async throws -> (projector: Int, services: Int, faults: Int) {
        var random = SplitMix64(seed: plan.seed ^ 0xC4A0_5EED)
        var steps = Array(repeating: Step.kill("projector"), count: plan.projectorKills)
        for service in services {
            steps += Array(repeating: .kill("\(service.kind.rawValue)-service-\(service.agencyId)"), count: plan.serviceKills)
        }
        steps += ChaosFault.schedule(plan.brokerFaults).map(Step.fault)
        steps.shuffle(using: &random)
        var counts = (projector: 0, services: 0, faults: 0)
        for (index, step) in steps.enumerated() {
            let wait = plan.interval * Double.random(in: 0.25...1.75, using: &random)
            try await Task.sleep(for: .milliseconds(Int(wait * 1_000)))
            switch step {
            case .fault(let fault):
                try await fault.play(on: stack, using: &random)
                counts.faults += 1
                Self.say("  broker fault: \(fault.rawValue) (\(index + 1) of \(steps.count))")
            case .kill(let target):
                let jitter = Duration.milliseconds(Int.random(in: 0...1_500, using: &random))
                let pause = target == "projector" ? plan.projectorDown.map { Duration.milliseconds(Int($0 * 1_000)) } ?? jitter : jitter
                let restarted = try await stack.crashAndRestart(target, pause: pause)
                if target == "projector" {
                    counts.projector += 1
                    try await stack.waitHealthy(restarted, "http://127.0.0.1:\(stack.projectorPort)/health")
                } else {
                    counts.services += 1
                    if let endpoint = services.first(where: { "\($0.kind.rawValue)-service-\($0.agencyId)" == target }) {
                        try await stack.waitHealthy(restarted, "http://127.0.0.1:\(endpoint.port)/health")
                    }
                }
                Self.say("  killed and restarted \(target) (\(index + 1) of \(steps.count))")
            }
        }
        return counts
    }

    /// Waits until the projector's `/ready` answers 200 with every expected event in the view
    /// (pending chains filled); gives up after two minutes without progress.
    private func waitUntilReady(expected: Int, seen: Int) async throws {
        var last = seen
        var since = ContinuousClock.now
        while ContinuousClock.now - since < .seconds(120) {
            if let response = try? await HTTPProbe.get("http://127.0.0.1:\(stack.projectorPort)/ready"),
               let body = try? response.json() as? [String: Any] {
                let events = body["events"] as? Int ?? 0
                if response.status == 200, events >= expected { return }
                if events != last {
                    last = events
                    since = ContinuousClock.now
                }
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        Self.say("the projector did not become ready with \(expected) events (\(last) in the view); checking what it has")
    }

    /// Compares the stopped projector's store with what was accepted, a clean rebuild and an audit.
    private func check(submissions: [Submission], into outcome: inout ChaosOutcome) async throws {
        let storePath = stack.data.appendingPathComponent("projector.sqlite").path
        let clock = ContinuousClock()
        var started = clock.now
        /// Says how long the step took, then what comes next (each takes a while at scale).
        func step(_ next: String?) {
            let elapsed = (clock.now - started).components
            let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
            Self.say(String(format: "  done in %.1f s", seconds) + (next.map { "; \($0)…" } ?? ""))
            started = clock.now
        }
        Self.say("checking: every accepted event journaled exactly once…")
        let counts = try ProjectorStore(readOnlyPath: storePath).journalIdCounts()
        outcome.journaled = counts.values.reduce(0, +)
        outcome.doubled = counts.values.reduce(0) { $0 + max(0, $1 - 1) }
        let missing = submissions.filter { counts[$0.id.uuidString.lowercased()] == nil }
        outcome.lost = missing.count
        for submission in missing.prefix(5) {
            outcome.problems.append("lost: event \(submission.id.uuidString.lowercased()) (\(submission.type.rawValue) about \(submission.subject))")
        }
        let upcaster = try AreaOfficesOption.upcaster(stack.areaOffices.path)
        for source in [RebuildSource.journal, .kafka(bootstrapServers: stack.bootstrap)] {
            step("rebuilding the view from \(source.name == "kafka" ? "Kafka" : "the journal") to compare")
            let rebuilt = try await Rebuild.run(livePath: storePath, from: source, upcaster: upcaster, compare: true,
                                                outputPath: storePath + ".chaos-\(source.name).sqlite")
            let differences = rebuilt.comparison?.differences ?? []
            outcome.rebuildDifferences += differences.count
            outcome.problems += differences.prefix(5).map { "rebuild from \(source.name): \($0)" }
        }
        let registry: KeyRegistry
        switch RegistryFile.read(stack.registry.path) {
        case .success(let read): registry = read
        case .failure(let error): throw ChildProcessError("the demo's key registry: \(error)")
        }
        var projectorKeys: KeyRegistry?
        if case .success(let keys) = RegistryFile.read(storePath + ".projector-key.pub.json") { projectorKeys = keys }
        step("auditing the journal as accord audit verify does")
        let audit = try JournalAudit.verify(storePath: storePath, registry: registry, projectorKeys: projectorKeys,
                                            upcaster: upcaster)
        if !audit.isIntact || !audit.isComplete || !audit.sequenceGaps.isEmpty {
            outcome.auditFindings = (audit.isIntact ? 0 : 1) + audit.unreadRanges.count + audit.pendingChains.count
                + audit.sequenceGaps.count
            outcome.problems += audit.text.split(separator: "\n").map { "audit: \($0)" }
        }
        step(nil)
    }
}
