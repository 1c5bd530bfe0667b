import AccordProcesses
import Foundation

/// One observation of a projector while it applies a backlog.
public struct CatchUpSample: Sendable, Hashable {
    /// Seconds since the projector was launched.
    public let seconds: Double
    /// Events applied so far (its `accord_projector_events_applied_total`).
    public let applied: Int
    /// Its resident memory at that moment (bytes).
    public let residentBytes: Int
}

/// How a projector applied a backlog of `expected` events, sampled every ~100 ms.
public struct CatchUpTrace: Sendable {
    /// The samples, in time order; the last one has applied `expected`.
    public let samples: [CatchUpSample]
    /// The events it had to apply.
    public let expected: Int
    /// Its peak resident memory (VmHWM) once done, in bytes.
    public let peakResidentBytes: Int

    /// The last sample before the first event was applied (the start of applying).
    public var start: CatchUpSample { samples.last { $0.applied == 0 } ?? samples[0] }
    /// The first sample with every event applied.
    public var end: CatchUpSample { samples.first { $0.applied >= expected } ?? samples[samples.count - 1] }

    /// Events per second from the start of applying to the end.
    public var overallRate: Double { Self.rate(from: start, to: end) }

    /// Events per second over the first `events` events.
    public func rate(first events: Int) -> Double {
        let reached = samples.first { $0.applied >= events } ?? end
        return Self.rate(from: start, to: reached)
    }

    /// Events per second over the last `events` events.
    public func rate(last events: Int) -> Double {
        let from = samples.last { $0.applied <= expected - events && $0.seconds < end.seconds } ?? start
        return Self.rate(from: from, to: end)
    }

    /// Resident memory when `events` events had been applied.
    public func residentBytes(at events: Int) -> Int {
        (samples.first { $0.applied >= events } ?? end).residentBytes
    }

    private static func rate(from a: CatchUpSample, to b: CatchUpSample) -> Double {
        let seconds = b.seconds - a.seconds
        return seconds > 0 ? Double(b.applied - a.applied) / seconds : 0
    }
}

/// Following a projector through its `/metrics` until it has applied a number of events.
enum CatchUp {
    /// Polls `run`'s applied counter and memory every `interval` until it reaches `expected`.
    /// Fails when it refuses a record (dead letter), applies more than `expected`, exits, or
    /// applies nothing for `stall`.
    static func follow(_ run: ProjectorRun, expected: Int, progress: BenchProgress,
                       interval: Duration = .milliseconds(100), stall: Duration = .seconds(300)) async throws -> CatchUpTrace {
        let intervalNanoseconds = UInt64(interval / .microseconds(1)) * 1_000
        let stallNanoseconds = UInt64(stall / .milliseconds(1)) * 1_000_000
        let pid = run.process.processIdentifier
        return try await Threads.run(name: "accord-bench-follow") {
            let connection = HTTPConnection(port: run.port, timeoutSeconds: 30)
            var samples: [CatchUpSample] = []
            var lastProgress = Monotonic.now()
            var lastApplied = -1
            var next = Monotonic.now()
            while true {
                guard run.process.isRunning else {
                    throw BenchError("the projector exited while catching up; its log:\n\(run.logTail())")
                }
                let metrics: PrometheusText
                do {
                    metrics = try run.metrics(on: connection)
                } catch {
                    connection.close()
                    Monotonic.sleep(until: Monotonic.now() + intervalNanoseconds)
                    continue
                }
                let now = Monotonic.now()
                let applied = Int(metrics[ProjectorRun.appliedMetric])
                let refused = Int(metrics[ProjectorRun.deadLetteredMetric])
                guard refused == 0 else {
                    throw BenchError("the projector refused \(refused) records to the dead-letter topic; the workload is not what an agency service produces. Its log:\n\(run.logTail())")
                }
                let memory = ProcessMemory.read(pid: pid)
                samples.append(CatchUpSample(seconds: Monotonic.seconds(from: run.launchedAt, to: now), applied: applied,
                                             residentBytes: memory?.residentBytes ?? 0))
                if applied > expected {
                    throw BenchError("the projector applied \(applied) events, more than the \(expected) produced")
                }
                if applied == expected {
                    let peak = ProcessMemory.read(pid: pid)?.peakResidentBytes ?? samples.map(\.residentBytes).max() ?? 0
                    return CatchUpTrace(samples: samples, expected: expected, peakResidentBytes: peak)
                }
                if applied != lastApplied {
                    lastApplied = applied
                    lastProgress = now
                } else if now - lastProgress > stallNanoseconds {
                    throw BenchError("the projector applied nothing for \(stall) (at \(applied) of \(expected)); its log:\n\(run.logTail())")
                }
                progress.tick("projector: \(applied) of \(expected) events applied, RSS \((memory?.residentBytes ?? 0) / 1_048_576) MB",
                              every: .seconds(5))
                next += intervalNanoseconds
                if next > now { Monotonic.sleep(until: next) } else { next = now }
            }
        }
    }
}
