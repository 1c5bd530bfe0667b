import AccordEvents
import AccordSimulation
import Foundation

/// An accountability view served by a query API on 127.0.0.1, ready to be queried.
public struct QueryView: Sendable {
    /// A short name for messages.
    public let name: String
    /// The port of the query API.
    public let port: Int
    /// Ids of cases the view holds (case lookups pick from them).
    public let caseIds: [String]
    /// Stops whatever serves the view (nothing when the caller owns it).
    public let stop: @Sendable () async -> Void

    /// Describes a view.
    public init(name: String, port: Int, caseIds: [String], stop: @escaping @Sendable () async -> Void) {
        self.name = name
        self.port = port
        self.caseIds = caseIds
        self.stop = stop
    }
}

/// Builds a view of a given number of cases for the query figures. Replaceable: the default goes
/// through Kafka and the `projector` executable; a bulk loader can build the same view faster.
public protocol QueryViewBuilder: Sendable {
    /// Builds and serves a view of about `cases` cases.
    func buildView(cases: Int, context: BenchContext) async throws -> QueryView
}

/// The default view builder: simulates `cases` cases over the whole period, seals them as the
/// agency services would, fills a new embedded broker and lets a new `projector` consume it all.
public struct ProjectorViewBuilder: QueryViewBuilder {
    /// Creates the builder.
    public init() {}

    /// Builds the view through Kafka and the projector executable.
    public func buildView(cases: Int, context: BenchContext) async throws -> QueryView {
        let options = context.options
        let name = "view-\(cases)"
        context.progress.say("\(name): simulating \(cases) cases")
        var config = SimulationConfig(cases: min(cases, WorkloadPlan.maximumCases))
        config.seed = options.seed &+ 3 &+ UInt64(cases)
        let submissions = try Simulation(config: config).plan()
        let plan = WorkloadPlan(submissions: submissions, simulatedCases: config.cases, config: config)
        let sources = Set(submissions.compactMap { $0.source?.urn })
        let keys = try BenchKeys.generate(sources: Array(sources), in: context.path("\(name)-keys"))
        let workload = try Workload.seal(plan, keys: keys, minimumPartitions: options.minimumPartitions,
                                         checkpointEvery: options.checkpointEvery, progress: context.progress)
        let broker = try BenchBroker(topics: workload.topics)
        do {
            _ = try await broker.fill(with: workload, progress: context.progress)
            context.progress.say("\(name): the projector applies \(workload.events) events")
            let store = context.path("\(name).sqlite")
            let run = try await ProjectorRun.start(context.processes, name: "projector-\(name)", bootstrap: broker.bootstrap,
                                                   store: store, registry: keys.registry)
            _ = try await CatchUp.follow(run, expected: workload.events, progress: context.progress)
            try await HTTPWait.untilOK(port: run.port, path: "/ready", timeout: .seconds(600), interval: .milliseconds(200)) {
                run.process.isRunning
            }
            let processes = context.processes
            return QueryView(name: name, port: run.port, caseIds: workload.caseIds) {
                await processes.stop(run.process)
                broker.shutdown()
            }
        } catch {
            await context.processes.stopAll()
            broker.shutdown()
            throw error
        }
    }
}
