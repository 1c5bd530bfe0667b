import CRdKafka
import Foundation

/// `accord bench`: one run of every figure on one generated workload, against the real
/// executables over TCP on 127.0.0.1 and an embedded broker in this process.
public struct Benchmark: Sendable {
    /// Options, processes and progress of the run.
    public let context: BenchContext
    /// How the query views are built.
    public let viewBuilder: any QueryViewBuilder

    /// Prepares a run; `viewBuilder` builds the query views (by default through Kafka and the projector).
    public init(context: BenchContext, viewBuilder: any QueryViewBuilder = ProjectorViewBuilder()) {
        self.context = context
        self.viewBuilder = viewBuilder
    }

    /// The machine and build the run is on.
    public static func machine(events: Int, records: Int, quick: Bool) -> BenchFacts {
        #if DEBUG
        let configuration = "debug"
        #else
        let configuration = "release"
        #endif
        return BenchFacts(cores: ProcessInfo.processInfo.activeProcessorCount,
                          memoryBytes: ProcessInfo.processInfo.physicalMemory, configuration: configuration,
                          librdkafka: String(cString: rd_kafka_version_str()), events: events, records: records, quick: quick)
    }

    /// Runs every step and returns the report. Every process it started is stopped when it returns or throws.
    public func run() async throws -> BenchReport {
        do {
            let report = try await steps()
            await context.processes.stopAll()
            return report
        } catch {
            await context.processes.stopAll()
            throw error
        }
    }

    private func steps() async throws -> BenchReport {
        let options = context.options
        let progress = context.progress
        try FileManager.default.createDirectory(at: options.workDirectory, withIntermediateDirectories: true)

        // 1. The workload, once.
        progress.say("workload: simulating \(options.events) events (seed \(options.seed))")
        let plan = try WorkloadPlan.make(events: options.events, seed: options.seed)
        let sources = Set(plan.submissions.compactMap { $0.source?.urn }).union([FreshnessFigure.source])
        let keys = try BenchKeys.generate(sources: Array(sources), in: context.path("keys"))
        progress.say("workload: sealing into chains with a signed checkpoint every \(options.checkpointEvery) events")
        let sealStart = Monotonic.now()
        let workload = try Workload.seal(plan, keys: keys, minimumPartitions: options.minimumPartitions,
                                         checkpointEvery: options.checkpointEvery, progress: progress)
        progress.say("workload: \(workload.events) events, \(workload.checkpoints) checkpoints, \(workload.caseIds.count) cases, \(workload.rawBytes / 1_048_576) MB in \(String(format: "%.1f", Monotonic.seconds(from: sealStart, to: Monotonic.now()))) s")
        var rows: [BenchRow] = [
            try BenchRow("workload events (N)", Double(workload.events), "events", target: .equals(Double(options.events), "events")),
            try BenchRow("workload records produced (events + checkpoints)", Double(workload.recordCount), "records"),
        ]

        let broker = try BenchBroker(topics: workload.topics)
        do {
            rows += try await measure(workload: workload, keys: keys, broker: broker)
        } catch {
            await context.processes.stopAll()
            broker.shutdown()
            throw error
        }
        await context.processes.stopAll()
        broker.shutdown()
        return BenchReport(facts: Self.machine(events: workload.events, records: workload.recordCount, quick: options.quick),
                           rows: rows)
    }

    private func measure(workload: Workload, keys: BenchKeys, broker: BenchBroker) async throws -> [BenchRow] {
        let options = context.options
        let progress = context.progress
        var rows: [BenchRow] = []

        // 2. Baselines on the same records.
        let fill = try await broker.fill(with: workload, progress: progress)
        let rawConsumeRate = Double(fill.consume.records) / fill.consume.seconds
        rows += [
            try BenchRow("records consumed back (raw librdkafka)", Double(fill.consume.records), "records",
                         target: .equals(Double(workload.recordCount), "records")),
            try BenchRow("raw librdkafka produce (C loop, idempotent, acks=all)",
                         Double(fill.produce.delivered) / fill.produce.seconds, "records/s"),
            try BenchRow("raw librdkafka consume (C loop, every partition)", rawConsumeRate, "records/s"),
        ]
        if let kcat = KcatBaseline.executable() {
            progress.say("baseline: kcat reading every topic")
            let bootstrap = broker.bootstrap
            let result = try await Threads.run(name: "accord-bench-kcat") {
                try KcatBaseline.consume(kcat, bootstrap: bootstrap, workload: workload)
            }
            rows.append(try BenchRow("raw consume (kcat, topic by topic)", Double(result.records) / result.seconds, "records/s"))
        } else {
            progress.say("baseline: kcat is not installed (scripts/bootstrap installs it); its row is left out")
        }
        progress.say("baseline: raw SQLite inserts, \(options.sqliteBatch) rows per transaction")
        let sqlitePath = context.path("baseline.sqlite")
        let batch = options.sqliteBatch
        let sqlite = try await Threads.run(name: "accord-bench-sqlite") {
            try SQLiteBaseline.insert(workload, path: sqlitePath, batch: batch)
        }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: sqlitePath.path + suffix) }
        rows.append(try BenchRow("raw SQLite insert (GRDB, key/headers/value blobs, \(batch) rows per transaction)",
                                 Double(sqlite.rows) / sqlite.seconds, "rows/s"))

        // 3. The projector on the main workload.
        let caughtUp = try await ProjectorFigures.catchUp(context, broker: broker, workload: workload, registry: keys.registry,
                                                          rawConsumeRate: rawConsumeRate)
        rows += caughtUp.rows
        let restarted = try await ProjectorFigures.restart(context, caughtUp.run, broker: broker, registry: keys.registry,
                                                           rawBytes: workload.rawBytes)
        rows += restarted.rows
        let projector = restarted.run

        var largeMeasured: QueryFigures.Measured?
        if options.queryCases == nil {
            let view = QueryView(name: "catch-up view", port: projector.port, caseIds: workload.caseIds) {}
            largeMeasured = try await QueryFigures.measure(context, view: view, fallbackAreas: workload.areas)
        }

        rows += try await FreshnessFigure.run(context, broker: broker, projector: projector, keys: keys,
                                              excludedCases: Set(workload.caseIds))

        let journalEvents = try await FreshnessFigure.viewEvents(projector)
        await context.processes.stop(projector.process, grace: .seconds(120))
        rows += try await AuditFigures.run(context, store: projector.store, registry: keys.registry, events: journalEvents)

        // 4. Query latency on a large and a small view.
        let large: QueryFigures.Measured
        if let measured = largeMeasured {
            large = measured
        } else {
            let view = try await viewBuilder.buildView(cases: options.queryCases ?? 1, context: context)
            do {
                large = try await QueryFigures.measure(context, view: view, fallbackAreas: workload.areas)
            } catch {
                await view.stop()
                throw error
            }
            await view.stop()
        }
        let smallView = try await viewBuilder.buildView(cases: max(1, large.cases / 10), context: context)
        let small: QueryFigures.Measured
        do {
            small = try await QueryFigures.measure(context, view: smallView, fallbackAreas: workload.areas)
        } catch {
            await smallView.stop()
            throw error
        }
        await smallView.stop()
        rows += try QueryFigures.rows(large: large, small: small)

        // 5. One agency service's intake.
        rows += try await IntakeFigures.run(context)
        return rows
    }
}
