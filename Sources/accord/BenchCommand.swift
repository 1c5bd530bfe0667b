import AccordBenchmark
import ArgumentParser
import Foundation
import UnixSignals

/// `accord bench`: measures Accord's executables against raw librdkafka and SQLite baselines.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the projector, audits, agency intake, freshness and queries against raw baselines.",
        discussion: """
        Generates a seeded workload of --events events, sealed into hash chains with signed checkpoints as the
        agency services do, fills an embedded broker (in this process) with it, and measures the real
        executables (projector, probation-service, accord audit) as separate processes over TCP on 127.0.0.1,
        through their public surfaces only. Raw librdkafka produce/consume, kcat and raw SQLite inserts of the
        same records are measured in the same run as baselines. Prints a table (figure, value, unit, baseline,
        ratio, target, met) and writes the rows as JSON. Run it on a release build:
        ACCORD_BUILD=release scripts/accord bench. See docs/performance.md.
        """)

    @Flag(help: "A short run (50,000 events, short loads): the same figures in about two minutes.")
    var quick = false

    @Option(help: "Events in the workload (default 1,000,000; 50,000 with --quick).")
    var events: Int?

    @Option(help: "Events posted in batches to the agency service (default 100,000; 10,000 with --quick).")
    var intakeEvents: Int?

    @Option(help: "Seconds of freshness load at 2,000 events/s (default 60; 10 with --quick).")
    var freshnessSeconds: Double?

    @Option(help: "Seconds of each fixed-rate latency load: single-event intake, and each query kind per view (default 10; 3 and 1.5 with --quick).")
    var loadSeconds: Double?

    @Option(help: "Where to write the rows as JSON.")
    var json: String = "bench.json"

    @Option(help: "The simulation seed.")
    var seed: UInt64 = 2025

    @Option(help: "Build both query views with the view builder, of this many and a tenth as many cases (default: the catch-up view and one a tenth its size).")
    var queryCases: Int?

    @Option(help: "Fewest partitions per agency topic (more when a partition would exceed the embedded broker's budget).")
    var partitions: Int32 = 64

    @Option(help: "Folder for stores, keys and logs (default: a new temporary folder, removed after a successful run).")
    var workDir: String?

    @Flag(help: "Keep the work folder after a successful run.")
    var keep = false

    @Flag(help: "No progress lines on stderr.")
    var quiet = false

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        if let events, events < 1_000 { throw ValidationError("--events must be at least 1000, got \(events)") }
        if let queryCases, !(10...200_000).contains(queryCases) {
            throw ValidationError("--query-cases must be between 10 and 200000, got \(queryCases)")
        }
        guard (1...1_024).contains(partitions) else { throw ValidationError("--partitions must be between 1 and 1024") }
        if let intakeEvents, intakeEvents < 100 { throw ValidationError("--intake-events must be at least 100") }
        for (name, value) in [("--freshness-seconds", freshnessSeconds), ("--load-seconds", loadSeconds)] {
            if let value, !(value.isFinite && value >= 0.1 && value <= 3_600) {
                throw ValidationError("\(name) must be between 0.1 and 3600 seconds")
            }
        }
    }

    func run() async throws {
        logging.bootstrap()
        let work = workDir.map { URL(fileURLWithPath: $0, isDirectory: true) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("accord-bench-\(ProcessInfo.processInfo.processIdentifier)",
                                                                              isDirectory: true)
        var options = BenchOptions(quick: quick, events: events, workDirectory: work, binaries: Self.binaries)
        options.seed = seed
        options.queryCases = queryCases
        options.minimumPartitions = partitions
        if let intakeEvents { options.intakeEvents = intakeEvents }
        if let freshnessSeconds { options.freshnessSeconds = freshnessSeconds }
        if let loadSeconds {
            options.singleSeconds = loadSeconds
            options.querySeconds = loadSeconds
        }
        let processes = BenchProcesses(binaries: options.binaries, logs: work.appendingPathComponent("logs", isDirectory: true))
        let progress = BenchProgress(enabled: !quiet)
        let benchmark = Benchmark(context: BenchContext(options: options, processes: processes, progress: progress))
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)

        let report: BenchReport
        do {
            report = try await withThrowingTaskGroup(of: BenchReport?.self) { group in
                group.addTask { try await benchmark.run() }
                group.addTask {
                    for await _ in signals {
                        progress.say("interrupted: stopping every process started")
                        await processes.stopAll(grace: .seconds(5))
                        throw ExitCode(130)
                    }
                    return nil
                }
                guard let first = try await group.next(), let report = first else {
                    throw ExitCode(130)
                }
                group.cancelAll()
                return report
            }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            FileHandle.standardError.write(Data("accord bench: \(error)\nlogs and stores are kept in \(work.path)\n".utf8))
            throw ExitCode(1)
        }
        print(report.table())
        let output = URL(fileURLWithPath: json)
        try report.json().write(to: output)
        progress.say("wrote \(output.path)")
        if keep || workDir != nil {
            progress.say("work folder kept: \(work.path)")
        } else {
            try? FileManager.default.removeItem(at: work)
        }
    }

    /// The folder of this executable, where `swift build` also put the projector and the services.
    static var binaries: URL {
        let own = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")).map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        return own.deletingLastPathComponent()
    }
}
