import AccordEvents
import AccordProcesses
import AccordSimulation
import ArgumentParser
import Foundation
import ServiceLifecycle
import Synchronization

/// `accord demo`: the whole partnership on one machine, as separate processes.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the whole Accord loop on this machine: broker, agency services, projector and a simulated caseload.",
        discussion: """
        Starts the embedded Kafka broker, one service per simulated agency (probation offices, \
        intervention providers, commissioners), and the projector with its query API, each as its own \
        process. Each agency gets its own Ed25519 signing key in <data-dir>/keys/, and the projector \
        checks every event's hash chain and signed checkpoints against <data-dir>/keys/registry.json. \
        Then plays a seeded caseload through the services' HTTP intake, waits until the \
        projector has caught up, and prints the URLs to query. Ctrl-C stops everything.
        """)

    @Option(help: "Number of cases to simulate.")
    var cases: Int = 2_000

    @Option(help: "Seed of the simulation (same seed, same caseload).")
    var seed: UInt64 = 2025

    @Option(help: "Simulated days per real second; 0 plays the caseload as fast as the services take it.")
    var speed: Double = 0

    @Option(help: "First day of the simulated year (YYYY-MM-DD); default: a year before today.")
    var start: String?

    @Option(help: "Port of the projector's query API; agency services take the following ports.")
    var port: Int = 8080

    @Option(help: """
        Partitions per topic on the embedded broker (default: enough that each topic's records fit \
        the broker's memory, about 5 MB per partition, and at least 6).
        """)
    var partitions: Int?

    @Option(help: "Folder for the projector's store, the agencies' signing keys (keys/) and every process's log (recreated on start).")
    var dataDir: String = ".accord-demo"

    @Flag(help: "Stop everything once the caseload is in and the view has caught up (for scripts).")
    var exitWhenDone = false

    /// Partitions per topic so that the busiest topic's records, about 1 KB each, fill at most
    /// 3 MB of each partition: the embedded broker keeps about 5 MB per partition and drops
    /// older records, read or not, beyond that.
    static func partitions(for submissions: [Submission]) -> Int {
        var perTopic: [AccordTopic: Int] = [:]
        for submission in submissions { perTopic[submission.type.topic, default: 0] += 1 }
        let busiest = perTopic.values.max() ?? 0
        return max(6, (busiest * 1_024 + 3_000_000 - 1) / 3_000_000)
    }

    /// The submissions with the recording times of their delivery (`recordedtime`), except
    /// where that lies after `now` (the services refuse a recording time in the future).
    static func recorded(_ submissions: [Submission], as delivered: [DeliveredEvent], now: Date) -> [Submission] {
        let limit = Int64(now.timeIntervalSince1970)
        var recordedAt: [UUID: Timestamp] = [:]
        recordedAt.reserveCapacity(delivered.count)
        for event in delivered { recordedAt[event.event.id] = event.recordedAt }
        return submissions.map { submission in
            var submission = submission
            if let at = recordedAt[submission.id], at >= submission.time, at.secondsSinceEpoch <= limit {
                submission.recordedAt = at
            }
            return submission
        }
    }

    func validate() throws {
        guard cases >= 1 else { throw ValidationError("--cases must be at least 1, got \(cases)") }
        if let partitions, !(1...1_000).contains(partitions) {
            throw ValidationError("--partitions must be between 1 and 1000, got \(partitions)")
        }
        guard speed >= 0 else { throw ValidationError("--speed must be 0 or more, got \(speed)") }
        guard (1...65_000).contains(port) else { throw ValidationError("--port must be a TCP port, got \(port)") }
        if let start, CalendarDate(text: start) == nil {
            throw ValidationError("--start must be a date like 2025-04-01, got '\(start)'")
        }
    }

    func run() async throws {
        let startDate = start.flatMap(CalendarDate.init(text:)) ?? Self.aYearAgo()
        let simulation = try Simulation(config: SimulationConfig(cases: cases, seed: seed, start: startDate))
        let plan = simulation.run()
        let delivered = simulation.delivered(plan)
        let submissions = Self.recorded(plan.submissions, as: delivered, now: Date())
        let skipped = delivered.skippedSequences()
        let data = URL(fileURLWithPath: dataDir, isDirectory: true)
        try? FileManager.default.removeItem(at: data)
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let stack = DemoStack(binaries: Self.binaries, data: data, projectorPort: port,
                              partitions: partitions ?? Self.partitions(for: plan.submissions))
        say("Starting the embedded broker, \(stack.agencies(for: simulation.config).count) agency services and the projector (logs in \(data.path)/logs)…")
        let interrupted: Bool
        do {
            interrupted = try await stack.runUnlessSignalled {
                try await self.play(stack: stack, simulation: simulation, plan: plan, submissions: submissions, skipped: skipped)
            }
        } catch let exit as ExitCode {
            await stack.stopAll()
            throw exit
        } catch {
            say("accord demo: \(error)")
            await stack.stopAll()
            throw ExitCode(1)
        }
        if interrupted { say("Interrupted: stopping every process…") }
        await stack.stopAll()
        say("Stopped.")
    }

    /// The demo's phases once the data folder is ready: start the stack, play the
    /// submissions, wait for the projector, and (without --exit-when-done) wait for Ctrl-C.
    private func play(stack: DemoStack, simulation: Simulation, plan: SimulationPlan, submissions: [Submission],
                      skipped: [EventSource: [Int64]]) async throws {
        try await stack.start(config: simulation.config, skippedSequences: skipped)
        say("All services are up. Playing \(submissions.count) submissions about \(cases) cases from \(simulation.config.startTime) to \(simulation.config.endTime)…")
        let late = submissions.filter { ($0.recordedAt ?? $0.time) > $0.time }.count
        let gaps = skipped.sorted { $0.key.urn < $1.key.urn }
            .map { "\($0.key.agencyId) never issues \($0.value.map(String.init).joined(separator: ", "))" }
        say("Each event is recorded (its Kafka timestamp) when it happened, except \(late) recorded late"
            + (gaps.isEmpty ? "." : "; sequence numbers skipped: \(gaps.joined(separator: "; ")).")
            + " So \"as known now\" and \"as shown then\" differ, and sequence-gap flags open.")
        let report = try await stack.play(submissions, speed: speed, startTime: simulation.config.startTime)
        say("Published \(report.accepted) events\(report.rejected.isEmpty ? "" : ", \(report.rejected.count) rejected"). Waiting for the projector to catch up…")
        let caught = try await stack.waitUntilCaughtUp(expected: report.accepted)
        printSummary(stack: stack, plan: plan, config: simulation.config)
        let complete = caught.events == report.accepted
        FileHandle.standardOutput.write(Data((Self.accountingLine(accepted: report.accepted, caught: caught) + "\n").utf8))
        if exitWhenDone, !complete {
            throw ExitCode(1)
        }
        if !exitWhenDone {
            say("Press Ctrl-C to stop.")
            try await stack.watchProcesses()
        }
    }

    private func printSummary(stack: DemoStack, plan: SimulationPlan, config: SimulationConfig) {
        let api = "http://127.0.0.1:\(port)"
        let firstCase = plan.submissions.first { $0.type == .caseOpened }?.subject ?? "X000001"
        let contract = plan.submissions.first { $0.type == .contractAwarded }?.subject ?? "CT-0001"
        let area = config.probationOffices.first?.areas.first ?? "london-north"
        var lines = [
            "",
            "Accord is running. The shared accountability view (query API, asOf defaults to now):",
            "  open flags            \(api)/v1/flags?open=true",
            "  one case              \(api)/v1/cases/\(firstCase)",
            "  its timeline          \(api)/v1/cases/\(firstCase)/timeline",
            "  contract performance  \(api)/v1/contracts/\(contract)/performance",
            "  area summary          \(api)/v1/areas/\(area)/summary",
            "  as at mid-year        \(api)/v1/flags?open=true&asOf=\(config.startTime.adding(seconds: 182 * 86_400) ?? config.startTime)",
            "  OpenAPI document      \(api)/openapi.json",
            "  readiness, metrics    \(api)/ready  \(api)/metrics",
            "Integrity: agency keys and the public key registry in \(stack.keys.path) (each service: GET /v1/keys)",
            "Agency services (HTTP intake POST /v1/events; reactions):",
        ]
        for agency in stack.agencyEndpoints {
            let reaction = switch agency.kind {
            case .probation: "/v1/worklist  (enforcement decisions due)"
            case .interventions: "/v1/worklist  (referrals to answer)"
            case .commissioner: "/v1/alerts    (contracts below service levels)"
            }
            lines.append("  \(agency.name.padding(toLength: 36, withPad: " ", startingAt: 0)) http://127.0.0.1:\(agency.port)\(reaction)")
        }
        lines.append("")
        FileHandle.standardOutput.write(Data(lines.joined(separator: "\n").utf8 + Data("\n".utf8)))
    }

    /// The demo's last word: the events the services accepted against the events in the view.
    static func accountingLine(accepted: Int, caught: DemoStack.CatchUp) -> String {
        if caught.events == accepted {
            return "Accepted \(accepted) events; the view holds all \(caught.events). Nothing was lost."
        }
        let lost = caught.unreadRecords > 0
            ? " \(caught.unreadRecords) records were dropped by the broker before the projector read them (see /v1/integrity)."
            : " See /ready, /v1/integrity and the projector's log."
        return "Accepted \(accepted) events but the view holds \(caught.events): \(accepted - caught.events) missing.\(lost)"
    }

    private func say(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// The folder of this executable, where `swift build` also puts the services and the projector.
    static var binaries: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    }

    /// The date a year before today (UTC): the default start, so "now" is just after the simulated year.
    static func aYearAgo() -> CalendarDate {
        let days = Int(Date().timeIntervalSince1970 / 86_400)
        return CalendarDate(daysSinceEpoch: days - 366) ?? SimulationConfig.defaultStart
    }
}

extension CalendarDate {
    /// Parses `YYYY-MM-DD`.
    init?(text: String) {
        let parts = text.split(separator: "-")
        guard parts.count == 3, let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]) else { return nil }
        self.init(year: year, month: month, day: day)
    }
}
