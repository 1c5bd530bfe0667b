import AccordEvents
import AccordProcesses
import AccordSimulation
import Foundation

/// One running agency service.
struct RunningService: Sendable {
    let kind: AgencyKind
    let agencyId: String
    let port: Int
    let process: ChildProcess
    var base: String { "http://127.0.0.1:\(port)" }
    var intake: String { "\(base)/v1/events" }
    var source: String { "urn:accord:\(kind.rawValue):\(agencyId)" }
}

/// One running projector.
struct RunningProjector: Sendable {
    let process: ChildProcess
    let port: Int
    var base: String { "http://127.0.0.1:\(port)" }
}

/// The processes of one test: an embedded broker, agency services and projectors, each a
/// separate executable on 127.0.0.1, with logs in a temporary folder that is removed when the
/// test passes and kept (and named in the error) when it fails.
final class Stack: @unchecked Sendable {
    // @unchecked: the process list is only touched by the test's own task.

    let folder: URL
    let partitions: Int32
    private(set) var bootstrap = ""
    private(set) var processes: [ChildProcess] = []

    private let began = ContinuousClock.now

    /// Notes a phase on stderr with the time since the stack was created (ACCORD_E2E_TRACE=1).
    func trace(_ what: String) {
        guard ProcessInfo.processInfo.environment["ACCORD_E2E_TRACE"] != nil else { return }
        FileHandle.standardError.write(Data("[e2e \(ContinuousClock.now - began)] \(what)\n".utf8))
    }

    private init(label: String, partitions: Int32) throws {
        self.partitions = partitions
        folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("accord-e2e-\(label)-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    /// Runs `body` with a started broker; stops every process afterwards, also on failure.
    static func with(_ label: String, partitions: Int32 = 4, _ body: (Stack) async throws -> Void) async throws {
        let stack = try Stack(label: label, partitions: partitions)
        do {
            try await stack.startBroker()
            try await body(stack)
        } catch {
            await stack.stopAll()
            throw E2EError("\(error)\n— logs kept in \(stack.folder.path) —\n\(stack.logTails())")
        }
        await stack.stopAll()
        try? FileManager.default.removeItem(at: stack.folder)
    }

    private func launch(_ name: String, _ executable: String, _ arguments: [String]) throws -> ChildProcess {
        let process = try ChildProcess(name: name, executable: Binaries.path(executable), arguments: arguments,
                                       logFile: folder.appendingPathComponent("logs/\(name).log"))
        processes.append(process)
        return process
    }

    private func startBroker() async throws {
        let broker = try launch("broker", "accord", ["broker", "--brokers", "1", "--partitions", "\(partitions)"])
        bootstrap = try await Task.detached { try broker.readFirstLine() }.value
        trace("broker at \(bootstrap)")
        guard bootstrap.contains("127.0.0.1:") else { throw E2EError("broker printed \"\(bootstrap)\", not bootstrap servers") }
    }

    /// Starts the service of one agency and waits until it is healthy (retrying on another
    /// port when the chosen one was taken meanwhile).
    /// With `port` it starts there, once (a restart of a service its clients know).
    func startService(_ kind: AgencyKind, _ agencyId: String, port fixedPort: Int? = nil,
                      arguments extra: [String] = []) async throws -> RunningService {
        let executable = "\(kind.rawValue)-service"
        var lastError: (any Error)?
        for attempt in 1...(fixedPort == nil ? 3 : 1) {
            let port = try fixedPort ?? Ports.one()
            let suffix = fixedPort != nil ? "-restarted-\(UUID().uuidString.prefix(4))" : attempt > 1 ? "-\(attempt)" : ""
            let process = try launch("\(executable)-\(agencyId)\(suffix)", executable, [
                "--bootstrap-servers", bootstrap, "--agency-id", agencyId, "--port", "\(port)",
                "--signing-key", folder.appendingPathComponent("\(agencyId).signing-key.json").path,
                "--consumer-property", "session.timeout.ms=6000", "--consumer-property", "heartbeat.interval.ms=500",
            ] + extra)
            do {
                try await HTTPProbe.waitUntilOK("http://127.0.0.1:\(port)/health", timeout: .seconds(60)) { process.isRunning }
                trace("\(executable) \(agencyId) healthy on \(port)")
                return RunningService(kind: kind, agencyId: agencyId, port: port, process: process)
            } catch {
                lastError = error
                if process.isRunning || !process.logTail(lines: 50).lowercased().contains("in use") { break }
            }
        }
        throw E2EError("\(executable) \(agencyId) did not become healthy: \(lastError.map { "\($0)" } ?? "?")")
    }

    /// Starts a projector on `store` and waits until its query API answers `/health`.
    func startProjector(name: String = "projector", store: URL, batchSize: Int? = nil,
                        group: String? = nil, arguments extra: [String] = []) async throws -> RunningProjector {
        var lastError: (any Error)?
        for attempt in 1...3 {
            let port = try Ports.one()
            var arguments = ["--bootstrap-servers", bootstrap, "--store", store.path, "--port", "\(port)"]
            if let batchSize { arguments += ["--batch-size", "\(batchSize)"] }
            if let group { arguments += ["--group", group] }
            arguments += extra
            let process = try launch("\(name)\(attempt > 1 ? "-\(attempt)" : "")", "projector", arguments)
            do {
                try await HTTPProbe.waitUntilOK("http://127.0.0.1:\(port)/health", timeout: .seconds(60)) { process.isRunning }
                trace("\(name) healthy on \(port)")
                return RunningProjector(process: process, port: port)
            } catch {
                lastError = error
                if process.isRunning || !process.logTail(lines: 50).lowercased().contains("in use") { break }
            }
        }
        throw E2EError("projector did not become healthy: \(lastError.map { "\($0)" } ?? "?")")
    }

    /// Waits until the projector's view holds exactly `events` events, then checks that it
    /// says it has caught up (`/ready` 200, lag 0).
    ///
    /// The event count is polled first: `/ready` answers slowly (about half a second per
    /// partition on the embedded broker) and can run one batch ahead of the view.
    func waitUntilCaughtUp(_ projector: RunningProjector, events: Int, timeout: Duration = .seconds(90)) async throws {
        _ = try await eventually("the projector's view to hold \(events) events", timeout: timeout) { note in
            guard projector.process.isRunning else { throw E2EError("the projector exited") }
            let (_, health) = try await getJSON("\(projector.base)/health")
            let count = eventCount(health) ?? -1
            note = "\(count) events"
            return count == events ? true : nil
        }
        trace("projector holds \(events) events")
        _ = try await eventually("the projector to report it has caught up", timeout: .seconds(60)) { note in
            let (status, ready) = try await getJSON("\(projector.base)/ready")
            note = "\(status) lag \(ready["lag"] ?? "?")"
            return status == 200 && ready["lag"] as? Int == 0 ? true : nil
        }
        trace("projector ready")
    }

    /// Stops every process, newest first (projectors, services, broker last).
    func stopAll() async {
        for process in processes.reversed() {
            await process.stop(grace: .seconds(10))
            trace("stopped \(process.name)")
        }
    }

    /// The last lines of every process's log.
    func logTails(lines: Int = 15) -> String {
        processes.map { "[\($0.name)]\n\($0.logTail(lines: lines))" }.joined(separator: "\n")
    }
}

/// Waits until every service's outbox is drained: all it accepted is on Kafka (a `202` means
/// "in the service's outbox"; its relay publishes right after).
func waitUntilPublished(_ services: [RunningService]) async throws {
    for service in services {
        _ = try await eventually("\(service.agencyId)'s outbox drained to Kafka") { note -> Bool? in
            let (_, health) = try await getJSON("\(service.base)/health")
            let pending = (health["outbox"] as? [String: Any])?["pending"] as? Int
            note = "pending \(pending.map(String.init) ?? "unknown")"
            return pending == 0 ? true : nil
        }
    }
}

/// Publishes submissions through the agencies' HTTP intake: one task per agency, each posting
/// its submissions in time order as JSON arrays of `batchSize`, then (unless `waitForKafka` is
/// false) waits until the services have them on Kafka. Returns the number accepted.
func publishThroughIntake(_ submissions: [Submission], services: [RunningService], batchSize: Int = 250,
                          waitForKafka: Bool = true) async throws -> Int {
    var byAgency: [String: [Submission]] = [:]
    for submission in submissions { byAgency["\(submission.agency.rawValue)/\(submission.agencyId)", default: []].append(submission) }
    return try await withThrowingTaskGroup(of: Int.self) { group in
        for (key, stream) in byAgency {
            guard let service = services.first(where: { "\($0.kind.rawValue)/\($0.agencyId)" == key }) else {
                throw E2EError("no service runs for agency \(key)")
            }
            group.addTask {
                let renderer = SubmissionRenderer()
                var accepted = 0
                var start = 0
                while start < stream.count {
                    let end = min(start + batchSize, stream.count)
                    let body = Data(try renderer.batch(stream[start..<end]))
                    let response = try await HTTPProbe.post(service.intake, body: body)
                    guard response.status == 202,
                          let object = try? response.json() as? [String: Any],
                          let acks = object["accepted"] as? [Any], acks.count == end - start else {
                        throw E2EError("POST \(service.intake) (\(end - start) events): \(response.status) \(response.text.prefix(600))")
                    }
                    accepted += acks.count
                    start = end
                }
                return accepted
            }
        }
        var total = 0
        for try await accepted in group { total += accepted }
        if waitForKafka { try await waitUntilPublished(services) }
        return total
    }
}
