import Foundation

/// What `accord bench` runs: the workload size and every step's load and duration.
public struct BenchOptions: Sendable {
    /// Events in the main workload (N).
    public var events: Int
    /// Whether this is the short `--quick` run.
    public var quick: Bool
    /// The simulation seed.
    public var seed: UInt64 = 2025
    /// Events per chain between signed checkpoints (as the agency services do).
    public var checkpointEvery = 1_000
    /// Fewest partitions per agency topic (more are used when a partition would exceed the broker's budget).
    public var minimumPartitions: Int32 = 64
    /// Rows per transaction of the raw SQLite baseline (the projector's default batch size).
    public var sqliteBatch = 1_000
    /// The catch-up window: rates over the first and last this many events.
    public var window: Int { min(100_000, max(1, events / 5)) }
    /// Events posted in batches to the agency service.
    public var intakeEvents: Int
    /// Events per intake batch request.
    public var intakeBatch = 100
    /// Concurrent connections posting batches.
    public var intakeConnections = 4
    /// Single-event requests per second.
    public var singleRate = 500.0
    /// Seconds of single-event requests.
    public var singleSeconds: Double
    /// Events per second sent for the freshness figure.
    public var freshnessRate = 2_000.0
    /// Seconds of freshness load.
    public var freshnessSeconds: Double
    /// Events per freshness request (requests are sent at `freshnessRate / freshnessBatch` per second).
    public var freshnessBatch = 20
    /// Every how many freshness requests one event is followed until visible.
    public var freshnessSampleEvery = 10
    /// Query requests per second, all clients together.
    public var queryRate = 1_000.0
    /// Concurrent keep-alive query clients.
    public var queryConnections = 16
    /// Seconds of load per query kind and view.
    public var querySeconds: Double
    /// When set, both query views are built by the view builder with this many and a tenth as many
    /// cases; otherwise the catch-up view is the large one and the builder makes one a tenth its size.
    public var queryCases: Int?
    /// Where the stores, keys and logs go.
    public var workDirectory: URL
    /// The folder of the executables.
    public var binaries: URL
    /// Whether the work directory is kept afterwards.
    public var keepWorkDirectory = false

    /// The longest a fixed-rate load of `seconds` may run before requests still unsent are given up
    /// (counted with their age at the cap): twice its length plus two seconds.
    public func loadCap(_ seconds: Double) -> Double { 2 * seconds + 2 }

    /// The full run (1,000,000 events unless `events` is given) or the `--quick` one (50,000).
    public init(quick: Bool, events: Int? = nil, workDirectory: URL, binaries: URL) {
        self.quick = quick
        self.events = events ?? (quick ? 50_000 : 1_000_000)
        intakeEvents = quick ? 10_000 : 100_000
        singleSeconds = quick ? 3 : 10
        freshnessSeconds = quick ? 10 : 60
        querySeconds = quick ? 1.5 : 10
        self.workDirectory = workDirectory
        self.binaries = binaries
    }
}

/// What every step of a run shares: options, child processes, progress and the work folder.
public struct BenchContext: Sendable {
    /// The options.
    public let options: BenchOptions
    /// The child processes started so far (stopped on every exit path).
    public let processes: BenchProcesses
    /// Progress lines on stderr.
    public let progress: BenchProgress

    /// Creates a context.
    public init(options: BenchOptions, processes: BenchProcesses, progress: BenchProgress) {
        self.options = options
        self.processes = processes
        self.progress = progress
    }

    /// A path inside the work directory.
    public func path(_ name: String) -> URL { options.workDirectory.appendingPathComponent(name) }
}
