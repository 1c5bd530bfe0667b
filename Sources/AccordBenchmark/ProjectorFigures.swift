import Foundation

/// The projector's figures on the main workload: catch-up from an empty store, memory, store
/// size, and restart on the same store.
enum ProjectorFigures {
    /// What the catch-up step leaves for the later steps.
    struct CatchUpOutcome: Sendable {
        /// The projector, caught up and still running.
        let run: ProjectorRun
        /// The rows.
        let rows: [BenchRow]
    }

    /// Starts a projector with a fresh store on the filled topics and follows it until it has
    /// applied every event of `workload`.
    static func catchUp(_ context: BenchContext, broker: BenchBroker, workload: Workload, registry: URL,
                        rawConsumeRate: Double) async throws -> CatchUpOutcome {
        let store = context.path("projector.sqlite")
        context.progress.say("catch-up: starting the projector on an empty store (\(workload.events) events waiting)")
        let run = try await ProjectorRun.start(context.processes, name: "projector", bootstrap: broker.bootstrap,
                                               store: store, registry: registry)
        let trace = try await CatchUp.follow(run, expected: workload.events, progress: context.progress)
        context.progress.say("catch-up: all \(workload.events) events applied in \(String(format: "%.1f", trace.end.seconds - trace.start.seconds)) s; waiting for /ready")
        try await HTTPWait.untilOK(port: run.port, path: "/ready", timeout: .seconds(600), interval: .milliseconds(200)) {
            run.process.isRunning
        }
        let window = context.options.window
        let mb = 1_048_576.0
        let overall = trace.overallRate
        let first = trace.rate(first: window)
        let last = trace.rate(last: window)
        let atWindow = Double(trace.residentBytes(at: window)) / mb
        let peak = Double(trace.peakResidentBytes) / mb
        let size = storeBytes(store)
        let rows = [
            try BenchRow("events applied by the projector", Double(trace.end.applied), "events",
                         target: .equals(Double(workload.events), "events")),
            try BenchRow("projector catch-up, overall", overall, "events/s", target: .atLeast(100_000, "events/s")),
            try BenchRow("projector catch-up ÷ raw librdkafka consume", overall, "events/s", baseline: rawConsumeRate,
                         target: .ratioAtLeast(0.15, "ratio")),
            try BenchRow("catch-up rate, first \(window) events", first, "events/s"),
            try BenchRow("catch-up rate, last \(window) events", last, "events/s", baseline: first,
                         target: .ratioAtLeast(0.8, "last/first")),
            try BenchRow("projector peak RSS (VmHWM) at \(workload.events) events", peak, "MB", target: .atMost(500, "MB")),
            try BenchRow("projector RSS at \(window) events", atWindow, "MB"),
            try BenchRow("projector peak RSS ÷ RSS at \(window) events", peak, "MB", baseline: atWindow,
                         target: .ratioAtMost(1.5, "peak/RSS")),
            // Mid-flight the log still holds pages of the last batches not yet copied back; the
            // target is checked on the store after a clean stop (`restart`).
            try BenchRow("store on disk (file + WAL), just caught up", Double(size) / mb, "MB",
                         baseline: Double(workload.rawBytes) / mb),
        ]
        return CatchUpOutcome(run: run, rows: rows)
    }

    /// Stops the caught-up projector (SIGTERM) and starts it again on the same store; times the
    /// stop and the way back to `/ready` 200. Returns the restarted projector.
    static func restart(_ context: BenchContext, _ run: ProjectorRun, broker: BenchBroker,
                        registry: URL, rawBytes: Int) async throws -> (run: ProjectorRun, rows: [BenchRow]) {
        context.progress.say("restart: SIGTERM to the projector")
        let stopStart = Monotonic.now()
        let status = await context.processes.stop(run.process, grace: .seconds(120))
        let stopSeconds = Monotonic.seconds(from: stopStart, to: Monotonic.now())
        guard status == 0 else {
            throw BenchError("the projector exited with status \(status) on SIGTERM; its log:\n\(run.logTail())")
        }
        let mb = 1_048_576.0
        let stoppedSize = Double(storeBytes(run.store)) / mb
        context.progress.say("restart: starting it again on the same store")
        let started = Monotonic.now()
        let again = try await ProjectorRun.start(context.processes, name: "projector-restarted", bootstrap: broker.bootstrap,
                                                 store: run.store, registry: registry)
        try await HTTPWait.untilOK(port: again.port, path: "/ready", timeout: .seconds(900), interval: .milliseconds(50)) {
            again.process.isRunning
        }
        let readySeconds = Monotonic.seconds(from: started, to: Monotonic.now())
        context.progress.say("restart: /ready after \(String(format: "%.2f", readySeconds)) s")
        return (again, [
            try BenchRow("projector stop (SIGTERM → exit)", stopSeconds, "s"),
            try BenchRow("store on disk (file + WAL), after a clean stop", stoppedSize, "MB",
                         baseline: Double(rawBytes) / mb, target: .ratioAtMost(1.5, "store/raw records")),
            try BenchRow("projector restart on its store → /ready 200 (nothing missed)", readySeconds, "s",
                         target: .atMost(5, "s")),
        ])
    }

    /// Bytes of a SQLite store on disk: the file and its write-ahead log.
    static func storeBytes(_ store: URL) -> Int {
        [store.path, store.path + "-wal"].reduce(0) { total, path in
            total + ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
        }
    }
}
