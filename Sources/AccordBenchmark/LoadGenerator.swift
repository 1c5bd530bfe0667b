import AccordProcesses
import Foundation
import Synchronization

/// Latencies of one load run and what failed.
public struct LoadResult: Sendable {
    /// Latency of every successful request in seconds, from its scheduled send time to its answer, sorted.
    public let latencies: [Double]
    /// Requests that failed (transport error or an unexpected answer).
    public let failures: Int
    /// The first failure, for the message.
    public let firstFailure: String?
    /// Seconds from the first scheduled send to the last answer.
    public let elapsed: Double
    /// Requests not sent because the run reached its time cap (the server was saturated); each is
    /// counted in `latencies` with its age at the cap, a lower bound of its latency.
    public var unsent: Int = 0

    /// The latency at quantile `q` (0…1), nearest rank; nil without samples.
    public func quantile(_ q: Double) -> Double? { Latency.quantile(latencies, q) }
}

/// Percentiles of latency samples.
public enum Latency {
    /// The value at quantile `q` of `sorted` samples (nearest rank), nil when empty.
    public static func quantile(_ sorted: [Double], _ q: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((q * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count - 1, max(0, rank - 1))]
    }
}

/// A precise HTTP load generator on plain blocking sockets with keep-alive, one thread per
/// connection.
///
/// Open loop: request `i` is due at `start + i / rate` whatever happened before, and its
/// latency is measured from that due time (so a stalled server shows up as latency instead of
/// as fewer requests — no coordinated omission). Requests are dealt to connections round robin.
public struct OpenLoopLoad: Sendable {
    /// The port on 127.0.0.1.
    public let port: Int
    /// Requests per second, all connections together.
    public let rate: Double
    /// Number of requests.
    public let count: Int
    /// Keep-alive connections (threads).
    public let connections: Int
    /// The bytes of request `i`.
    public let request: @Sendable (Int) -> [UInt8]
    /// Whether the answer to request `i` is a success; otherwise a reason.
    public let check: @Sendable (Int, HTTPAnswer) -> String?
    /// Longest run in seconds from the first due time; requests still unsent then are not sent
    /// (a saturated server would otherwise keep the run going for its whole backlog).
    public let cap: Double?

    /// Describes a run.
    public init(port: Int, rate: Double, count: Int, connections: Int, cap: Double? = nil,
                request: @escaping @Sendable (Int) -> [UInt8],
                check: @escaping @Sendable (Int, HTTPAnswer) -> String? = { _, response in
                    (200..<300).contains(response.status) ? nil : "status \(response.status): \(response.text.prefix(200))"
                }) {
        self.port = port
        self.rate = rate
        self.count = count
        self.connections = max(1, connections)
        self.cap = cap
        self.request = request
        self.check = check
    }

    /// Runs the load and returns the latencies. `onAnswer(i, due, answeredAt)` is called on the
    /// connection's thread after each successful request (monotonic nanoseconds).
    public func run(onAnswer: (@Sendable (Int, UInt64, UInt64) -> Void)? = nil) async throws -> LoadResult {
        let connections = min(self.connections, max(1, count))
        let begin = Monotonic.now() + 200_000_000
        let interval = 1e9 / rate
        let capDeadline = cap.map { begin + UInt64(max(0, $0) * 1e9) } ?? UInt64.max
        let plan = self
        let perThread = try await Threads.runEach(count: connections, name: "accord-bench-load") { thread -> ThreadResult in
            let connection = HTTPConnection(port: plan.port)
            var result = ThreadResult()
            do { try connection.connect() } catch { result.fail("\(error)") }
            var index = thread
            while index < plan.count {
                let due = begin + UInt64(Double(index) * interval)
                if Monotonic.now() >= capDeadline {
                    // Saturated: the rest are never sent; each is at least as late as its age at the cap.
                    var rest = index
                    while rest < plan.count {
                        let restDue = begin + UInt64(Double(rest) * interval)
                        if restDue < capDeadline {
                            result.latencies.append(Monotonic.seconds(from: restDue, to: capDeadline))
                            result.unsent += 1
                        }
                        rest += connections
                    }
                    break
                }
                if Monotonic.now() < due { Monotonic.sleep(until: due) }
                let bytes = plan.request(index)
                do {
                    let response = try connection.send(bytes)
                    let answered = Monotonic.now()
                    if let problem = plan.check(index, response) {
                        result.fail(problem)
                    } else {
                        result.latencies.append(Monotonic.seconds(from: due, to: answered))
                        onAnswer?(index, due, answered)
                    }
                    result.last = max(result.last, answered)
                } catch {
                    result.fail("\(error)")
                    connection.close()
                }
                index += connections
            }
            return result
        }
        let last = perThread.map(\.last).max() ?? begin
        return LoadResult(latencies: perThread.flatMap(\.latencies).sorted(),
                          failures: perThread.reduce(0) { $0 + $1.failures },
                          firstFailure: perThread.compactMap(\.firstFailure).first,
                          elapsed: last > begin ? Monotonic.seconds(from: begin, to: last) : 0,
                          unsent: perThread.reduce(0) { $0 + $1.unsent })
    }
}

/// Closed loop: each connection sends its next request as soon as the previous one is answered,
/// until `count` requests were sent — for throughput.
public struct ClosedLoopLoad: Sendable {
    /// The port on 127.0.0.1.
    public let port: Int
    /// Number of requests.
    public let count: Int
    /// Keep-alive connections (threads).
    public let connections: Int
    /// The bytes of request `i`.
    public let request: @Sendable (Int) -> [UInt8]
    /// Whether the answer to request `i` is a success; otherwise a reason.
    public let check: @Sendable (Int, HTTPAnswer) -> String?

    /// Describes a run.
    public init(port: Int, count: Int, connections: Int, request: @escaping @Sendable (Int) -> [UInt8],
                check: @escaping @Sendable (Int, HTTPAnswer) -> String?) {
        self.port = port
        self.count = count
        self.connections = max(1, connections)
        self.request = request
        self.check = check
    }

    /// Runs the load; latencies are per request from send to answer.
    public func run() async throws -> LoadResult {
        let next = SharedCounter()
        let plan = self
        let begin = Monotonic.now()
        let perThread = try await Threads.runEach(count: connections, name: "accord-bench-closed") { _ -> ThreadResult in
            let connection = HTTPConnection(port: plan.port)
            var result = ThreadResult()
            while true {
                let index = next.next()
                guard index < plan.count else { break }
                let bytes = plan.request(index)
                let sent = Monotonic.now()
                do {
                    let response = try connection.send(bytes)
                    let answered = Monotonic.now()
                    if let problem = plan.check(index, response) {
                        result.fail(problem)
                    } else {
                        result.latencies.append(Monotonic.seconds(from: sent, to: answered))
                    }
                    result.last = max(result.last, answered)
                } catch {
                    result.fail("\(error)")
                    connection.close()
                }
            }
            return result
        }
        let last = perThread.map(\.last).max() ?? begin
        return LoadResult(latencies: perThread.flatMap(\.latencies).sorted(),
                          failures: perThread.reduce(0) { $0 + $1.failures },
                          firstFailure: perThread.compactMap(\.firstFailure).first,
                          elapsed: Monotonic.seconds(from: begin, to: max(last, begin)))
    }
}

/// What one load thread observed.
struct ThreadResult: Sendable {
    var latencies: [Double] = []
    var failures = 0
    var firstFailure: String?
    var last: UInt64 = 0
    var unsent = 0

    mutating func fail(_ reason: String) {
        failures += 1
        if firstFailure == nil { firstFailure = reason }
    }
}

/// A counter shared by threads, handing out 0, 1, 2, …
final class SharedCounter: Sendable {
    private let value = Atomic<Int>(0)

    /// The next number.
    func next() -> Int { value.add(1, ordering: .relaxed).oldValue }
}
