import AccordHTTP
import AccordEvents
import AccordIntegrity
import AccordProjection
import AccordStore
import AccordProjector
import AccordRuntime
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

    @Option(help: ArgumentHelp(AreaOfficesOption.help, valueName: "file"))
    var areaOffices: String?

    @Option(help: "Largest number of records committed in one store transaction.")
    var batchSize: Int = 5_000

    @Option(help: "Agencies' public key registry JSON (env ACCORD_KEY_REGISTRY). When given, every record's hash chain and checkpoint signatures are checked before the projection; without it integrity checking is off.")
    var keyRegistry: String?

    @Option(help: "The projector's own signing key for journal checkpoints (env ACCORD_PROJECTOR_KEY; generated if missing; default <store>.projector-key.json).")
    var signingKey: String?

    @Option(help: ArgumentHelp("Sign a journal checkpoint once no event has been applied for this many seconds and some are not yet under one, so the latest state can be proved (accord audit prove) within seconds.", valueName: "seconds"))
    var journalCheckpointIdle: Double = 5

    @Option(help: ArgumentHelp("Seconds an HTTP connection may stay silent (between requests, or while a request's head or body is still arriving) before the query API closes it.", valueName: "seconds"))
    var httpIdleTimeout: Int = HTTPServerSetup.defaultIdleTimeoutSeconds

    @Option(name: .customLong("consumer-property"),
            help: ArgumentHelp("A librdkafka property for the projector's consumer, e.g. session.timeout.ms=6000 (repeatable).",
                               valueName: "key=value"))
    var consumerProperties: [String] = []

    @Option(name: .customLong("chain-endpoint"),
            help: ArgumentHelp("Where a source serves its chains: the base URL of its agency service, e.g. urn:accord:probation:nps-london=http://127.0.0.1:8081 (repeatable). With --key-registry, a record that shows events missing from its chain is held, with the chain's later records, until the missing events are fetched from there and verified; a source without one has such records refused (broken-chain).",
                               valueName: "source=url"))
    var chainEndpoints: [String] = []

    @Option(name: .customLong("source-flag-after"),
            help: ArgumentHelp("Seconds fetching a chain's missing events from its source may keep failing before a flag is raised on the source (/v1/integrity, /ready, /metrics, the log); at once when no attempt can succeed.",
                               valueName: "seconds"))
    var sourceFlagAfter: Double = 60

    @Option(help: "Log level (env ACCORD_LOG_LEVEL; default notice).")
    var logLevel: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        ProcessRuntime.bootstrapLogging(level: ProcessRuntime.logLevel(logLevel ?? environment["ACCORD_LOG_LEVEL"]))
        let metrics = ProcessRuntime.bootstrapMetrics()
        ProcessRuntime.limitMallocArenas()
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
        let upcaster: EventUpcaster
        do {
            upcaster = try AreaOfficesOption.upcaster(areaOffices, environment: environment)
        } catch {
            throw ValidationError("--area-offices: \(error)")
        }
        var registry: KeyRegistry?
        if let path = keyRegistry ?? environment["ACCORD_KEY_REGISTRY"] {
            do {
                let data = try Data(contentsOf: URL(fileURLWithPath: path))
                registry = try KeyRegistry(jsonBytes: [UInt8](data))
            } catch {
                throw ValidationError("key registry \(path): \(error)")
            }
        }
        let logger = Logger(label: "accord.projector")
        var configuration = ProjectorConfiguration(
            bootstrapServers: bootstrap, groupID: group,
            storePath: store ?? environment["ACCORD_STORE"] ?? "accord-projector.sqlite",
            host: host, port: port ?? environment["ACCORD_HTTP_PORT"].flatMap(Int.init) ?? 8080,
            batchSize: batchSize, rules: projectionRules, consumerProperties: try Self.properties(consumerProperties),
            keyRegistry: registry, signingKeyPath: signingKey ?? environment["ACCORD_PROJECTOR_KEY"])
        configuration.upcaster = upcaster
        let endpoints = try Self.chainEndpoints(chainEndpoints)
        if !endpoints.isEmpty {
            guard let registry else {
                throw ValidationError("--chain-endpoint needs --key-registry: fetched records are trusted only once verified against the sources' keys")
            }
            for source in endpoints.keys.sorted() where !registry.hasKeys(for: source) {
                throw ValidationError("--chain-endpoint \(source): the key registry has no key for this source")
            }
            configuration.chainRanges = HTTPChainRanges(endpoints: endpoints)
            configuration.sourceFlagAfter = .milliseconds(Int64(sourceFlagAfter * 1_000))
        }
        guard (0...86_400).contains(sourceFlagAfter) else {
            throw ValidationError("--source-flag-after must be between 0 and 86400 seconds, got \(sourceFlagAfter)")
        }
        guard journalCheckpointIdle > 0, journalCheckpointIdle <= 3_600 else {
            throw ValidationError("--journal-checkpoint-idle must be in (0, 3600] seconds, got \(journalCheckpointIdle)")
        }
        configuration.journalCheckpointIdle = .milliseconds(Int64(journalCheckpointIdle * 1_000))
        guard (1...3_600).contains(httpIdleTimeout) else {
            throw ValidationError("--http-idle-timeout must be between 1 and 3600 seconds, got \(httpIdleTimeout)")
        }
        let projector = try Projector(configuration: configuration, logger: logger)
        let api = QueryAPI(projector: projector, registry: metrics, logger: logger).application(
            host: configuration.host, port: configuration.port, idleTimeoutSeconds: httpIdleTimeout)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: projector), .init(service: api)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }

    /// Parses repeated `key=value` options.
    static func properties(_ pairs: [String]) throws -> [String: String] {
        var properties: [String: String] = [:]
        for pair in pairs {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw ValidationError("--consumer-property expects key=value, got '\(pair)'")
            }
            properties[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        return properties
    }

    /// Parses `source=url` pairs, naming the one that is wrong.
    static func chainEndpoints(_ pairs: [String]) throws -> [String: URL] {
        var endpoints: [String: URL] = [:]
        for pair in pairs {
            guard let equals = pair.firstIndex(of: "=") else {
                throw ValidationError("--chain-endpoint \"\(pair.prefix(200))\": expected source=url")
            }
            let source = String(pair[..<equals])
            let text = String(pair[pair.index(after: equals)...])
            guard EventSource(urn: source) != nil else {
                throw ValidationError("--chain-endpoint \"\(pair.prefix(200))\": \"\(source.prefix(120))\" is not a source URN (urn:accord:<agency>:<name>)")
            }
            guard let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
                throw ValidationError("--chain-endpoint \"\(pair.prefix(200))\": \"\(text.prefix(120))\" is not an http(s) URL")
            }
            guard endpoints[source] == nil else {
                throw ValidationError("--chain-endpoint: \(source) is given twice")
            }
            endpoints[source] = url
        }
        return endpoints
    }
}
