import AccordProcesses
import AccordEvents
import AccordSimulation
import Foundation
import Synchronization

/// Freshness: events sent through an agency service's HTTP intake at a fixed rate while the
/// projector runs caught up; for sampled events, the time from the scheduled send to the event
/// appearing in its case's timeline on the query API.
enum FreshnessFigure {
    /// The agency id of the service sending the fresh events (its key is in the projector's registry).
    static let agencyId = "nps-fresh"

    /// The source URN of that service.
    static var source: String { EventSource(kind: .probation, agencyId: agencyId)?.urn ?? "urn:accord:probation:\(agencyId)" }

    static func run(_ context: BenchContext, broker: BenchBroker, projector: ProjectorRun, keys: BenchKeys,
                    excludedCases: Set<String>) async throws -> [BenchRow] {
        let options = context.options
        let batch = max(1, options.freshnessBatch)
        let requests = max(1, Int(options.freshnessRate * options.freshnessSeconds) / batch)
        let count = requests * batch
        context.progress.say("freshness: planning \(count) events for \(agencyId)")
        let feed = try ProbationFeed.make(count: count, agencyId: agencyId, seed: options.seed &+ 1, excluding: excludedCases)
        let service = try await ServiceRun.start(context, kind: .probation, agencyId: agencyId, bootstrap: broker.bootstrap,
                                                 keyFile: keys.keyFile(for: source))
        let renderer = SubmissionRenderer()
        var bodies: [[UInt8]] = []
        var samples: [Int: (id: [UInt8], path: String)] = [:]
        for index in 0..<requests {
            let slice = feed[(index * batch)..<((index + 1) * batch)]
            bodies.append(HTTPRequestBytes.post("/v1/events", port: service.port, body: try renderer.batch(slice)))
            if index % max(1, options.freshnessSampleEvery) == 0, let first = slice.first {
                samples[index] = (Array(first.id.lowercasedString.utf8), "/v1/cases/\(first.subject)/timeline?limit=1000")
            }
        }
        let before = try await viewEvents(projector)
        let poller = VisibilityPoller(port: projector.port, alive: { projector.process.isRunning })
        let prepared = bodies
        let sampled = samples
        context.progress.say("freshness: \(count) events at \(Int(options.freshnessRate))/s in batches of \(batch), \(sampled.count) followed to the query API")
        async let polled = poller.run()
        let load: LoadResult
        do {
            load = try await OpenLoopLoad(port: service.port, rate: options.freshnessRate / Double(batch), count: requests,
                                          connections: 4, request: { prepared[$0] }, check: { _, response in
                response.status == 202 ? nil : "status \(response.status): \(response.text.prefix(300))"
            }).run { index, due, _ in
                if let sample = sampled[index] { poller.follow(id: sample.id, path: sample.path, due: due) }
            }
        } catch {
            poller.finish()
            _ = try? await polled
            throw error
        }
        poller.finish()
        let visibility = try await polled
        guard load.failures == 0 else {
            throw BenchError("freshness: \(load.failures) requests failed: \(load.firstFailure ?? "?")")
        }
        guard visibility.failures == 0 else {
            throw BenchError("freshness: \(visibility.failures) sampled events never became visible: \(visibility.firstFailure ?? "?")")
        }
        // Every event sent must reach the view, exactly once.
        let expected = before + count
        let deadline = ContinuousClock.now + .seconds(1_800)
        var now = try await viewEvents(projector)
        while now < expected, ContinuousClock.now < deadline, projector.process.isRunning {
            context.progress.tick("freshness: the view holds \(now - before) of the \(count) events sent", every: .seconds(5))
            try await Task.sleep(for: .milliseconds(200))
            now = try await viewEvents(projector)
        }
        await service.stop(context)
        guard now == expected else {
            throw BenchError("freshness: the view holds \(now) events, expected \(expected) (\(count) sent)")
        }
        let ms = 1_000.0
        return [
            try BenchRow("freshness events sent and in the view", Double(now - before), "events",
                         target: .equals(Double(count), "events")),
            try BenchRow("freshness at \(Int(options.freshnessRate)) events/s, send → visible, p50",
                         (visibility.quantile(0.5) ?? 0) * ms, "ms"),
            try BenchRow("freshness at \(Int(options.freshnessRate)) events/s, send → visible, p99",
                         (visibility.quantile(0.99) ?? 0) * ms, "ms", target: .atMost(50, "ms")),
            try BenchRow("freshness at \(Int(options.freshnessRate)) events/s, send → visible, p99.9",
                         (visibility.quantile(0.999) ?? 0) * ms, "ms"),
        ]
    }

    /// The number of events in the projector's view (`/health`).
    static func viewEvents(_ projector: ProjectorRun) async throws -> Int {
        let port = projector.port
        return try await Threads.run(name: "accord-bench-health") {
            let response = try HTTPConnection(port: port).send(HTTPRequestBytes.get("/health", port: port))
            guard response.status == 200, let events = response.jsonObject()?["events"] as? Int else {
                throw BenchError("/health answered \(response.status): \(response.text.prefix(200))")
            }
            return events
        }
    }
}

/// Polls the query API for sampled events until each one is visible, measuring from its due time.
///
/// One thread polls, one request at a time, at most one every `gap`, always the pending event
/// whose next poll is due first; an event is polled again after a tenth of its age (between 1 ms
/// and 500 ms). So the polling never takes more than one of the API's threads and backs off by
/// itself when the view falls behind, while an event seen within tens of milliseconds is timed to
/// about a millisecond.
final class VisibilityPoller: Sendable {
    private struct Pending: Sendable {
        let id: [UInt8]
        let path: String
        let due: UInt64
        var nextPoll: UInt64
    }

    private let port: Int
    private let alive: @Sendable () -> Bool
    private let inbox = Mutex<[Pending]>([])
    private let finished = Atomic<Bool>(false)
    /// Give up on an event after this long.
    private let giveUp: UInt64 = 1_800_000_000_000
    /// The least time between two polls.
    private let gap: UInt64 = 2_000_000

    /// Polls the query API on `port`; gives up on every pending event once `alive` says the
    /// process serving it has exited.
    init(port: Int, alive: @escaping @Sendable () -> Bool) {
        self.port = port
        self.alive = alive
    }

    /// Starts following an event: `path` answers with a body that contains `id` once it is visible.
    func follow(id: [UInt8], path: String, due: UInt64) {
        inbox.withLock { $0.append(Pending(id: id, path: path, due: due, nextPoll: Monotonic.now())) }
    }

    /// No more events will be followed; `run` returns once the pending ones are seen.
    func finish() { finished.store(true, ordering: .releasing) }

    /// Polls until `finish` was called and every followed event was seen; returns the latencies.
    func run() async throws -> LoadResult {
        let port = self.port
        let started = Monotonic.now()
        let result = try await Threads.run(name: "accord-bench-visibility") { () -> ThreadResult in
            let connection = HTTPConnection(port: port, timeoutSeconds: 60)
            var result = ThreadResult()
            var pending: [Pending] = []
            var lastPoll: UInt64 = 0
            while true {
                pending += self.inbox.withLock { inbox -> [Pending] in
                    defer { inbox.removeAll() }
                    return inbox
                }
                guard let index = pending.indices.min(by: { pending[$0].nextPoll < pending[$1].nextPoll }) else {
                    if self.finished.load(ordering: .acquiring), self.inbox.withLock({ $0.isEmpty }) { break }
                    Monotonic.sleep(until: Monotonic.now() + 500_000)
                    continue
                }
                let wake = max(pending[index].nextPoll, lastPoll + self.gap)
                if wake > Monotonic.now() {
                    // Wake at least every millisecond to take in newly sent events.
                    Monotonic.sleep(until: min(wake, Monotonic.now() + 1_000_000))
                    if Monotonic.now() < wake { continue }
                }
                lastPoll = Monotonic.now()
                do {
                    let response = try connection.send(HTTPRequestBytes.get(pending[index].path, port: port))
                    let seen = Monotonic.now()
                    if response.status == 200, response.bodyContains(pending[index].id) {
                        result.latencies.append(Monotonic.seconds(from: pending[index].due, to: seen))
                        result.last = max(result.last, seen)
                        pending.remove(at: index)
                        continue
                    }
                    if response.status != 200 && response.status != 404 {
                        result.fail("status \(response.status): \(response.text.prefix(200))")
                        pending.remove(at: index)
                        continue
                    }
                    let age = seen &- pending[index].due
                    if age > self.giveUp {
                        result.fail("not visible after \(self.giveUp / 1_000_000_000) s")
                        pending.remove(at: index)
                        continue
                    }
                    pending[index].nextPoll = seen + min(500_000_000, max(1_000_000, age / 10))
                } catch {
                    connection.close()
                    guard self.alive() else {
                        result.fail("the query API's process exited (\(error))")
                        pending.removeAll()
                        continue
                    }
                    pending[index].nextPoll = Monotonic.now() + 5_000_000
                }
            }
            return result
        }
        return LoadResult(latencies: result.latencies.sorted(), failures: result.failures, firstFailure: result.firstFailure,
                          elapsed: Monotonic.seconds(from: started, to: max(result.last, started)))
    }
}
