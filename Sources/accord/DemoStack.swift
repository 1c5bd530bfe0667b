import AccordEvents
import AccordIntegrity
import AccordKafka
import AccordProcesses
import AccordSimulation
import Foundation
import ServiceLifecycle
import UnixSignals
import Synchronization

/// The processes of `accord demo`: broker, one service per simulated agency, projector.
final class DemoStack: @unchecked Sendable {
    // @unchecked: the endpoint list is written while starting, by the command's task only, and
    // read afterwards; the process list is behind a lock, as `accord chaos` restarts processes
    // while others read it.

    /// One running agency service.
    struct AgencyEndpoint: Sendable {
        let kind: AgencyKind
        let agencyId: String
        let port: Int
        var name: String { "\(kind.rawValue)-service \(agencyId)" }
        var intake: URL? { URL(string: "http://127.0.0.1:\(port)/v1/events") }
    }

    let binaries: URL
    let data: URL
    let projectorPort: Int
    let partitions: Int
    /// Brokers in the embedded cluster.
    let brokers: Int
    /// Port of the embedded broker's fault control (`accord broker --fault-port`), when it serves one.
    let faultPort: Int?
    private let running = Mutex(Running())
    /// The demo's own HTTP requests; closed on Ctrl-C before the processes stop.
    let requests = RequestGate()
    private(set) var agencyEndpoints: [AgencyEndpoint] = []
    /// The embedded broker's bootstrap servers, once started.
    private(set) var bootstrap = ""

    /// A process with the command line it was started with, to start it again the same way.
    private struct Launched {
        var process: ChildProcess
        let executable: String
        let arguments: [String]
    }

    /// What was started, and whether `stopAll` has begun (then nothing more is started: a
    /// phase cut short by Ctrl-C may still be starting processes, and none may outlive the demo).
    private struct Running {
        var launched: [Launched] = []
        var stopping = false
    }

    /// The running processes (the latest instance of each name).
    var processes: [ChildProcess] { running.withLock { $0.launched.map(\.process) } }

    /// The latest instance of the process called `name`.
    func process(named name: String) -> ChildProcess? {
        running.withLock { $0.launched.first { $0.process.name == name }?.process }
    }

    init(binaries: URL, data: URL, projectorPort: Int, partitions: Int, brokers: Int = 1, faultPort: Int? = nil) {
        self.binaries = binaries
        self.data = data
        self.projectorPort = projectorPort
        self.partitions = partitions
        self.brokers = brokers
        self.faultPort = faultPort
    }

    /// The agencies of a simulated world, in a stable order.
    func agencies(for config: SimulationConfig) -> [(kind: AgencyKind, id: String)] {
        config.probationOffices.map { (AgencyKind.probation, $0.id) }
            + config.providers.map { (AgencyKind.interventions, $0.id) }
            + config.commissioners.map { (AgencyKind.commissioner, $0.id) }
    }

    private func launch(_ name: String, _ executable: String, _ arguments: [String]) throws -> ChildProcess {
        try running.withLock { state throws in
            guard !state.stopping else { throw ChildProcessError("stopping: \(name) is not started") }
            let process = try ChildProcess(name: name, executable: binaries.appendingPathComponent(executable),
                                           arguments: arguments, logFile: data.appendingPathComponent("logs/\(name).log"))
            state.launched.append(Launched(process: process, executable: executable, arguments: arguments))
            return process
        }
    }

    /// Kills the process called `name` at once (SIGKILL, as a crash would), waits `pause`, and
    /// starts it again with its own command line. Returns the new instance.
    func crashAndRestart(_ name: String, pause: Duration) async throws -> ChildProcess {
        guard let launched = running.withLock({ $0.launched.first { $0.process.name == name } }) else {
            throw ChildProcessError("no process called \(name) runs")
        }
        launched.process.kill()
        try await Task.sleep(for: pause)
        return try running.withLock { state throws in
            guard !state.stopping else { throw ChildProcessError("stopping: \(name) is not restarted") }
            let process = try ChildProcess(name: name, executable: binaries.appendingPathComponent(launched.executable),
                                           arguments: launched.arguments, logFile: launched.process.logFile)
            if let index = state.launched.firstIndex(where: { $0.process.name == name }) { state.launched[index].process = process }
            return process
        }
    }

    /// The folder of the agencies' signing keys and the public key registry.
    var keys: URL { data.appendingPathComponent("keys", isDirectory: true) }

    /// The public key registry given to the projector.
    var registry: URL { keys.appendingPathComponent("registry.json") }

    /// The map of areas to probation offices given to the projector (`--area-offices`).
    var areaOffices: URL { data.appendingPathComponent("area-offices.json") }

    /// The key file of one agency.
    func keyFile(kind: AgencyKind, agencyId: String) -> URL {
        keys.appendingPathComponent("\(kind.rawValue)-\(agencyId).signing-key.json")
    }

    /// Generates one signing key per agency into `keys/` and writes `keys/registry.json` with
    /// every public key, valid from now.
    func makeKeys(config: SimulationConfig) throws {
        try FileManager.default.createDirectory(at: keys, withIntermediateDirectories: true)
        let validFrom = KeyFiles.wholeSeconds(Date())
        var entries: [RegisteredKey] = []
        for agency in agencies(for: config) {
            guard let source = EventSource(kind: agency.kind, agencyId: agency.id),
                  let key = AgencySigningKey.generate(signer: source.urn) else {
                throw ChildProcessError("agency id \(agency.id) does not make a source URN")
            }
            try key.write(toFile: keyFile(kind: agency.kind, agencyId: agency.id).path)
            entries.append(key.registryEntry(validFrom: validFrom))
        }
        try KeyFiles.write(try KeyRegistry(keys: entries), to: registry.path)
    }

    /// Starts broker, services and projector, and waits until every one answers its health check.
    /// Every service takes the simulated `recordedtime`s; `skippedSequences` names the numbers
    /// each source never issues.
    /// Consumer settings for the embedded broker: a consumer that crashed leaves its group
    /// within 6 s (librdkafka's default is 45 s), so a restarted one takes its partitions back
    /// and the view moves again within seconds.
    static let quickGroupRecovery = ["--consumer-property", "session.timeout.ms=6000",
                                     "--consumer-property", "heartbeat.interval.ms=500"]

    func start(config: SimulationConfig, skippedSequences: [EventSource: [Int64]] = [:]) async throws {
        try makeKeys(config: config)
        let broker = try launch("broker", "accord", ["broker", "--brokers", "\(brokers)", "--partitions", "\(partitions)"]
                                    + (faultPort.map { ["--fault-port", "\($0)"] } ?? []))
        let bootstrap = try await Task.detached { try broker.readFirstLine() }.value
        self.bootstrap = bootstrap
        if let faultPort { try await waitHealthy(broker, "http://127.0.0.1:\(faultPort)/health") }
        var port = projectorPort
        for agency in agencies(for: config) {
            port += 1
            let executable = "\(agency.kind.rawValue)-service"
            let skips = EventSource(kind: agency.kind, agencyId: agency.id).flatMap { skippedSequences[$0] } ?? []
            _ = try launch("\(executable)-\(agency.id)", executable, [
                "--bootstrap-servers", bootstrap, "--agency-id", agency.id, "--port", "\(port)",
                "--signing-key", keyFile(kind: agency.kind, agencyId: agency.id).path, "--accept-recorded-time",
            ] + Self.quickGroupRecovery + skips.flatMap { ["--skip-sequence", "\($0)"] })
            agencyEndpoints.append(AgencyEndpoint(kind: agency.kind, agencyId: agency.id, port: port))
        }
        // The simulated partnership's own map of areas to offices, so that a case-transferred.v1
        // is read with the offices of this world (not a default, nor ACCORD_AREA_OFFICES).
        try Data(config.areaOffices.canonicalJSON.utf8).write(to: areaOffices)
        let projector = try launch("projector", "projector", [
            "--bootstrap-servers", bootstrap, "--port", "\(projectorPort)",
            "--store", data.appendingPathComponent("projector.sqlite").path,
            "--key-registry", registry.path,
            "--area-offices", areaOffices.path,
        ] + Self.quickGroupRecovery + agencyEndpoints.flatMap { endpoint -> [String] in
            // Where each source serves its chains: a gap in one is filled from there, not lost.
            guard let source = EventSource(kind: endpoint.kind, agencyId: endpoint.agencyId) else { return [] }
            return ["--chain-endpoint", "\(source.urn)=http://127.0.0.1:\(endpoint.port)"]
        })
        for endpoint in agencyEndpoints {
            guard let process = processes.first(where: { $0.name == "\(endpoint.kind.rawValue)-service-\(endpoint.agencyId)" }) else { continue }
            try await waitHealthy(process, "http://127.0.0.1:\(endpoint.port)/health")
        }
        try await waitHealthy(projector, "http://127.0.0.1:\(projectorPort)/health")
    }

    /// Injects `fault` through the broker's fault control; throws when it is refused or the
    /// broker serves no fault control.
    func inject(_ fault: BrokerFault) async throws {
        guard let faultPort else { throw ChildProcessError("the broker serves no fault control") }
        let body = try JSONEncoder().encode(fault)
        let response = try await requests.pass { try await HTTPProbe.post("http://127.0.0.1:\(faultPort)/v1/faults", body: body) }
        guard response.status == 201 else {
            throw ChildProcessError("the broker refused \(fault): \(response.status) \(response.text)")
        }
    }

    func waitHealthy(_ process: ChildProcess, _ url: String) async throws {
        do {
            try await requests.waitUntilOK(url, timeout: .seconds(120)) { process.isRunning }
        } catch {
            throw ChildProcessError("\(process.name) did not become healthy (\(error)); its log:\n\(process.logTail())")
        }
    }

    /// Publishes the submissions through their agencies' services: one stream per agency, in
    /// time order within it, paced at `speed` simulated days per second (0: unpaced).
    func play(_ submissions: [Submission], speed: Double, startTime: Timestamp) async throws -> PublishReport {
        var byAgency: [String: [Submission]] = [:]
        for submission in submissions { byAgency["\(submission.agency.rawValue)/\(submission.agencyId)", default: []].append(submission) }
        let progress = PublishedCount()
        let bar = ExclusiveBar(ProgressBar(total: submissions.count, label: "publishing"))
        let began = ContinuousClock.now
        let endpoints = agencyEndpoints
        let reports = try await withThrowingTaskGroup(of: PublishReport.self) { group in
            for (key, stream) in byAgency {
                guard let endpoint = endpoints.first(where: { "\($0.kind.rawValue)/\($0.agencyId)" == key }),
                      let url = endpoint.intake else {
                    throw ChildProcessError("no service runs for agency \(key)")
                }
                group.addTask { [requests] in
                    try await Self.publish(stream, to: url, speed: speed, startTime: startTime, began: began, gate: requests) { count in
                        progress.add(count)
                    }
                }
            }
            let ticker = Task {
                while !Task.isCancelled {
                    bar.bar.update(progress.value)
                    try? await Task.sleep(for: .milliseconds(250))
                }
            }
            var merged = PublishReport()
            do {
                for try await report in group {
                    merged.accepted += report.accepted
                    merged.rejected += report.rejected
                }
            } catch {
                ticker.cancel()
                await ticker.value
                throw error
            }
            ticker.cancel()
            await ticker.value
            return merged
        }
        bar.bar.finish(note: "\(reports.accepted) accepted")
        return reports
    }

    private static func publish(_ stream: [Submission], to url: URL, speed: Double, startTime: Timestamp,
                                began: ContinuousClock.Instant, gate: RequestGate,
                                done: @Sendable (Int) -> Void) async throws -> PublishReport {
        let intake = Intake(timeout: 60, keepRetrying: { gate.isOpen })
        let renderer = SubmissionRenderer()
        var report = PublishReport()
        var index = 0
        while index < stream.count {
            var end = index
            if speed > 0 {
                // Wait until the simulated clock reaches the next submission, then take what is due.
                let due = Double(stream[index].time.secondsSinceEpoch - startTime.secondsSinceEpoch) / 86_400 / speed
                let elapsed = ContinuousClock.now - began
                let wait = due - Double(elapsed.components.seconds)
                if wait > 0 { try await Task.sleep(for: .milliseconds(Int(wait * 1000))) }
                let clock = startTime.secondsSinceEpoch + Int64((ContinuousClock.now - began).components.seconds) * Int64(86_400 * speed)
                while end < stream.count, end - index < 500, stream[end].time.secondsSinceEpoch <= max(clock, stream[index].time.secondsSinceEpoch) { end += 1 }
            } else {
                end = min(index + 500, stream.count)
            }
            let items = BulkInput.parse(try renderer.ndjson(stream[index..<end]), format: .ndjson).items
            var batch = report
            let failure = try await gate.pass {
                let failure = await intake.publish(items, to: url, report: &batch)
                return (failure, batch)
            }
            report = failure.1
            if let failure = failure.0 {
                throw ChildProcessError("publishing to \(url): \(failure.message)")
            }
            done(end - index)
            index = end
        }
        return report
    }

    /// What the projector held once it had read everything there was to read.
    struct CatchUp: Sendable {
        /// Events in the view (journaled).
        var events: Int
        /// Records lost before the projector could read them.
        var unreadRecords: Int64
    }

    /// Waits until every outbox has drained to Kafka and the projector has read every partition to
    /// its end (lag 0), showing the view's progress towards `expected` events. Records lost unread do
    /// not keep it waiting: they are reported in the result.
    func waitUntilCaughtUp(expected: Int) async throws -> CatchUp {
        // A 202 means "in the service's outbox": first every outbox drains to Kafka.
        for endpoint in agencyEndpoints {
            try await waitUntilDrained(endpoint)
        }
        guard process(named: "projector") != nil else { return CatchUp(events: 0, unreadRecords: 0) }
        let bar = ProgressBar(total: expected, label: "projecting")
        var last = "no answer"
        var lastEvents = -1
        var stalledSince = ContinuousClock.now
        while true {
            // Looked up each round: `accord chaos` restarts the projector under a new instance.
            if let projector = process(named: "projector"), !projector.isRunning {
                throw ChildProcessError("the projector exited; its log:\n\(projector.logTail())")
            }
            try requests.check()
            if let response = try? await requests.pass({ try await HTTPProbe.get("http://127.0.0.1:\(projectorPort)/ready") }),
               let body = try? response.json() as? [String: Any] {
                let events = body["events"] as? Int ?? 0
                let lag = (body["lag"] as? Int).map(Int64.init) ?? -1
                let partitions = (body["partitions"] as? [Any])?.count ?? 0
                let unread = (body["unreadRecords"] as? Int).map(Int64.init) ?? 0
                bar.update(events, note: lag > 0 ? "\(lag) records behind" : nil)
                if lag == 0, partitions > 0 {
                    bar.finish(note: "\(events) events in the view")
                    return CatchUp(events: events, unreadRecords: unread)
                }
                last = "\(lag) records behind, \(events) events in the view"
                if events != lastEvents {
                    lastEvents = events
                    stalledSince = ContinuousClock.now
                }
            }
            if ContinuousClock.now - stalledSince > .seconds(120) {
                bar.finish(note: "stalled")
                throw ChildProcessError("the projector made no progress for 2 minutes (\(last)); its log:\n\(process(named: "projector")?.logTail() ?? "")")
            }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    /// Waits until the service's `/health` reports no unsent outbox entries (10 minutes at most).
    private func waitUntilDrained(_ endpoint: AgencyEndpoint) async throws {
        let deadline = ContinuousClock.now + .seconds(600)
        var last = "no answer"
        while ContinuousClock.now < deadline {
            try requests.check()
            if let response = try? await requests.pass({ try await HTTPProbe.get("http://127.0.0.1:\(endpoint.port)/health") }),
               let health = try? response.json() as? [String: Any] {
                let pending = (health["outbox"] as? [String: Any])?["pending"] as? Int
                if pending == 0 { return }
                last = "\(pending.map { "\($0) unsent" } ?? response.text.prefix(200).description)"
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw ChildProcessError("\(endpoint.name) did not publish its outbox to Kafka within 10 minutes: \(last)")
    }

    /// Runs `body` unless SIGINT or SIGTERM comes first, in whatever phase it is; returns true
    /// when a signal cut it short. The body is then left behind, neither cancelled nor waited
    /// for: the command drains its requests (``RequestGate``), stops the processes it talks to
    /// and exits.
    func runUnlessSignalled(_ body: @escaping @Sendable () async throws -> Void) async throws -> Bool {
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        let (outcomes, continuation) = AsyncStream<Result<Bool, any Error>>.makeStream()
        let work = Task {
            do {
                try await body()
                continuation.yield(.success(false))
            } catch {
                continuation.yield(.failure(error))
            }
        }
        let watcher = Task {
            for await _ in signals {
                continuation.yield(.success(true))
                return
            }
        }
        var iterator = outcomes.makeAsyncIterator()
        let first = await iterator.next() ?? .success(false)
        if case .success(true) = first {
            // Requests in flight finish before the processes they talk to stop.
            await requests.close(waitingUpTo: .seconds(30))
        }
        watcher.cancel()
        _ = work
        continuation.finish()
        return try first.get()
    }

    /// Returns only by throwing: when a process exits on its own, or when cancelled.
    func watchProcesses() async throws {
        while true {
            if let dead = processes.first(where: { !$0.isRunning }) {
                throw ChildProcessError("\(dead.name) exited unexpectedly; its log:\n\(dead.logTail())")
            }
            try await Task.sleep(for: .milliseconds(500))
        }
    }

    /// Stops every process: the projector and the agency services together (each drains what
    /// it holds within its own shutdown timeout), then the broker they drain to.
    func stopAll() async {
        running.withLock { $0.stopping = true }
        let broker = processes.first { $0.name == "broker" }
        let others = processes.filter { $0.name != "broker" }
        await withTaskGroup(of: Void.self) { group in
            for process in others {
                group.addTask { await process.stop(grace: .seconds(15)) }
            }
        }
        if let broker { await broker.stop() }
    }
}

/// Events published so far, counted from several publishing tasks.
final class PublishedCount: Sendable {
    private let count = Atomic<Int>(0)

    func add(_ n: Int) { count.add(n, ordering: .relaxed) }

    var value: Int { count.load(ordering: .relaxed) }
}

/// Hands the progress bar to one task at a time: the ticker while publishing, then the
/// command's task once the ticker has ended.
struct ExclusiveBar: @unchecked Sendable {
    let bar: ProgressBar
    init(_ bar: ProgressBar) { self.bar = bar }
}
