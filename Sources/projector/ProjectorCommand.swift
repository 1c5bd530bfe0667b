import AccordProjection
import AccordProjector
import AccordService
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle

/// `projector`: builds the shared accountability view from every agency topic and serves the query API.
@main
struct ProjectorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "projector",
        abstract: "Build Accord's accountability view from every agency topic and serve the query API.")

    @Option(help: "Kafka bootstrap servers (env ACCORD_BOOTSTRAP_SERVERS).")
    var bootstrapServers: String?

    @Option(help: "Path of the SQLite store (env ACCORD_STORE; default accord-projector.sqlite).")
    var store: String?

    @Option(help: "Host the query API listens on.")
    var host: String = "127.0.0.1"

    @Option(help: "Port the query API listens on (env ACCORD_HTTP_PORT).")
    var port: Int?

    @Option(help: "Consumer group of the projector.")
    var group: String = "accord-projector"

    @Option(help: "JSON rules file with accountability thresholds (missing keys take defaults).")
    var rules: String?

    @Option(help: "Largest number of records committed in one store transaction.")
    var batchSize: Int = 1_000

    @Option(help: "Log level (env ACCORD_LOG_LEVEL; default notice).")
    var logLevel: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        ProcessRuntime.bootstrapLogging(level: ProcessRuntime.logLevel(logLevel ?? environment["ACCORD_LOG_LEVEL"]))
        let registry = ProcessRuntime.bootstrapMetrics()
        guard let bootstrap = bootstrapServers ?? environment["ACCORD_BOOTSTRAP_SERVERS"] else {
            throw ValidationError("--bootstrap-servers (or ACCORD_BOOTSTRAP_SERVERS) is required")
        }
        var projectionRules = ProjectionRules.defaults
        if let rules {
            do {
                projectionRules = try ProjectionRules(json: Data(contentsOf: URL(fileURLWithPath: rules)))
            } catch {
                throw ValidationError("rules file \(rules): \(error)")
            }
        }
        let logger = Logger(label: "accord.projector")
        let configuration = ProjectorConfiguration(
            bootstrapServers: bootstrap, groupID: group,
            storePath: store ?? environment["ACCORD_STORE"] ?? "accord-projector.sqlite",
            host: host, port: port ?? environment["ACCORD_HTTP_PORT"].flatMap(Int.init) ?? 8080,
            batchSize: batchSize, rules: projectionRules)
        let projector = try Projector(configuration: configuration, logger: logger)
        let api = QueryAPI(projector: projector, registry: registry, logger: logger).application(
            host: configuration.host, port: configuration.port)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: projector), .init(service: api)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}
