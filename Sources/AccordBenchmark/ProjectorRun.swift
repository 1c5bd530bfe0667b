import AccordProcesses
import Foundation

/// One `projector` executable started by the benchmark, observed only through its HTTP surface
/// (`/health`, `/ready`, `/metrics`, the query API) and `/proc`.
public final class ProjectorRun: Sendable {
    /// The process.
    public let process: ChildProcess
    /// The port of its query API.
    public let port: Int
    /// Its store file.
    public let store: URL
    /// When it was launched (monotonic nanoseconds).
    public let launchedAt: UInt64

    /// The counter of events applied to the view.
    public static let appliedMetric = "accord_projector_events_applied_total"
    /// The counter of records refused to the dead-letter topic.
    public static let deadLetteredMetric = "accord_projector_events_dead_lettered_total"

    private init(process: ChildProcess, port: Int, store: URL, launchedAt: UInt64) {
        self.process = process
        self.port = port
        self.store = store
        self.launchedAt = launchedAt
    }

    /// Starts a projector on `store`, reading `bootstrap` with the key registry `registry`, and
    /// waits until its API answers `/health` (after it rebuilt its view from the store's journal).
    public static func start(_ processes: BenchProcesses, name: String, bootstrap: String, store: URL,
                             registry: URL) async throws -> ProjectorRun {
        var lastError = "not started"
        for _ in 1...3 {
            let port = try BenchProcesses.freePort()
            let launchedAt = Monotonic.now()
            let process = try processes.launch(name, "projector", [
                "--bootstrap-servers", bootstrap, "--store", store.path, "--port", "\(port)",
                "--key-registry", registry.path,
                "--consumer-property", "session.timeout.ms=6000", "--consumer-property", "heartbeat.interval.ms=500",
            ])
            let run = ProjectorRun(process: process, port: port, store: store, launchedAt: launchedAt)
            do {
                try await HTTPWait.untilOK(port: port, path: "/health", timeout: .seconds(600)) { process.isRunning }
                return run
            } catch {
                lastError = "\(error)"
                let tail = process.logTail(lines: 30)
                await processes.stop(process)
                if !tail.lowercased().contains("in use") {
                    throw BenchError("\(name) did not start: \(error); its log:\n\(tail)")
                }
            }
        }
        throw BenchError("\(name) did not start: \(lastError)")
    }

    /// The projector's counters from `/metrics` (blocking).
    public func metrics(on connection: HTTPConnection) throws -> PrometheusText {
        let response = try connection.send(HTTPRequestBytes.get("/metrics", port: port))
        guard response.status == 200 else { throw BenchError("/metrics answered \(response.status)") }
        return PrometheusText(response.text)
    }

    /// The last lines of its log.
    public func logTail() -> String { process.logTail(lines: 30) }
}

/// Values of a Prometheus text exposition, summed over labels per metric name.
public struct PrometheusText: Sendable {
    private var values: [String: Double] = [:]

    /// Parses the exposition text.
    public init(_ text: String) {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count >= 2, let value = Double(parts[1]) else { continue }
            let name = parts[0].prefix { $0 != "{" }
            values[String(name), default: 0] += value
        }
    }

    /// The value of `name` (0 when absent).
    public subscript(_ name: String) -> Double { values[name] ?? 0 }
}

/// Waiting for an HTTP endpoint on 127.0.0.1 to answer 200.
public enum HTTPWait {
    /// Polls `path` every `interval` until it answers 200; throws after `timeout` or when `alive` turns false.
    public static func untilOK(port: Int, path: String, timeout: Duration, interval: Duration = .milliseconds(50),
                               alive: @escaping @Sendable () -> Bool) async throws {
        let timeoutNanoseconds = UInt64(timeout / .milliseconds(1)) * 1_000_000
        let intervalNanoseconds = UInt64(interval / .microseconds(1)) * 1_000
        try await Threads.run(name: "accord-bench-wait") {
            let start = Monotonic.now()
            var last = "no answer"
            let connection = HTTPConnection(port: port, timeoutSeconds: 30)
            while Monotonic.now() - start < timeoutNanoseconds {
                guard alive() else { throw BenchError("the process exited while waiting for \(path)") }
                do {
                    let response = try connection.send(HTTPRequestBytes.get(path, port: port))
                    if response.status == 200 { return }
                    last = "\(response.status) \(response.text.prefix(200))"
                } catch {
                    last = "\(error)"
                    connection.close()
                }
                Monotonic.sleep(until: Monotonic.now() + intervalNanoseconds)
            }
            throw BenchError("\(path) on port \(port) did not answer 200 within \(timeout): \(last)")
        }
    }
}
