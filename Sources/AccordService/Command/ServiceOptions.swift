import AccordHTTP
import AccordKafka
import ArgumentParser
import Foundation
import Logging

/// Command-line options shared by the three agency services; each falls back to an environment
/// variable, then to the service's default.
public struct ServiceOptions: ParsableArguments {
    /// Kafka bootstrap servers.
    @Option(help: "Kafka bootstrap servers, host:port[,host:port…] (env ACCORD_BOOTSTRAP_SERVERS; required).")
    public var bootstrapServers: String?

    /// The agency id.
    @Option(help: "This agency's id, the last part of its source urn:accord:<kind>:<agency-id> (env ACCORD_AGENCY_ID; default: probation nps-london, interventions ace-payback, commissioner pcc-west).")
    public var agencyId: String?

    /// HTTP bind host.
    @Option(help: "HTTP bind host.")
    public var host: String = "127.0.0.1"

    /// HTTP port.
    @Option(help: "HTTP port (env ACCORD_HTTP_PORT; default: probation 8081, interventions 8082, commissioner 8083).")
    public var port: Int?

    /// Log level.
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (env ACCORD_LOG_LEVEL; default notice). Logs go to stderr.")
    public var logLevel: String?

    /// Partitions of the own topic(s).
    @Option(help: "Partitions of the agency's own topic(s); by default they are probed.")
    public var partitions: Int32?

    /// Reaction consumer group.
    @Option(help: "Consumer group for reading other agencies' topics (default accord-<kind>-<agency-id>).")
    public var consumerGroup: String?

    /// Extra librdkafka properties for every client.
    @Option(name: .customLong("kafka-property"), help: ArgumentHelp("A librdkafka property for every Kafka client (repeatable).", valueName: "key=value"))
    public var kafkaProperties: [String] = []

    /// Extra librdkafka properties for the reaction consumer.
    @Option(name: .customLong("consumer-property"), help: ArgumentHelp("A librdkafka property for the reaction consumer only, e.g. session.timeout.ms=6000 (repeatable).", valueName: "key=value"))
    public var consumerProperties: [String] = []

    /// Delivery timeout in seconds.
    @Option(help: "Seconds the producer tries to deliver an outbox entry before the relay sends it again.")
    public var deliveryTimeout: Int = 30

    /// The service's data folder.
    @Option(help: ArgumentHelp("Folder of the signing key and the outbox when --signing-key or --outbox are not given (env ACCORD_DATA_DIR; default: the working directory).", valueName: "folder"))
    public var dataDir: String?

    /// The outbox file.
    @Option(help: ArgumentHelp("The outbox: a SQLite file of every accepted event until and after Kafka has it (default <agency-id>.outbox.sqlite beside the signing key file).", valueName: "file"))
    public var outbox: String?

    /// The bound of unsent entries.
    @Option(help: "Unsent outbox entries (events and checkpoints) above which the intake answers 503 with Retry-After.")
    public var outboxMaxPending: Int = 100_000

    /// Retention of published records.
    @Option(help: ArgumentHelp("How long published records stay in the outbox for GET /v1/chains/…: a duration (30d, 12h, 45m) or a number of records.", valueName: "duration|count"))
    public var outboxRetention: String = "30d"

    /// The agency's Ed25519 signing key file.
    @Option(help: ArgumentHelp("The agency's Ed25519 signing key file; generated (mode 0600) when it does not exist (env ACCORD_SIGNING_KEY; default <agency-id>.signing-key.json in the working directory).", valueName: "file"))
    public var signingKey: String?

    /// Events per chain between checkpoints.
    @Option(help: "Sign a chain checkpoint once a chain has this many events not yet covered.")
    public var checkpointEvery: Int = 1000

    /// Seconds between checkpoints.
    @Option(help: ArgumentHelp("Sign a checkpoint for every chain with uncovered events at least this often (seconds, fractions allowed).", valueName: "seconds"))
    public var checkpointInterval: Double = 1

    /// Shutdown timeout in seconds.
    @Option(help: "Seconds to wait at shutdown (SIGTERM) for the outbox to drain to Kafka; what is left is sent at the next start.")
    public var shutdownTimeout: Int = 10

    /// Idle timeout of HTTP connections in seconds.
    @Option(help: ArgumentHelp("Seconds an HTTP connection may stay silent (between requests, or while a request's head or body is still arriving) before the service closes it.", valueName: "seconds"))
    public var httpIdleTimeout: Int = HTTPServerSetup.defaultIdleTimeoutSeconds

    /// Whether the intake takes `recordedtime`.
    @Flag(help: "Take a recordedtime per event (RFC 3339: when the agency's own system recorded it, at or after its time and not in the future) and give its Kafka record that timestamp. For importing history; partners then see late-recorded events as late.")
    public var acceptRecordedTime = false

    /// Sequence numbers never issued.
    @Option(name: .customLong("skip-sequence"), help: ArgumentHelp("Fault injection for demos and tests: never issue this sequence number, so partners see a sequence gap (repeatable).", valueName: "number"))
    public var skippedSequences: [Int64] = []

    /// Creates options with their defaults.
    public init() {}

    /// Resolves options, environment and the profile's defaults into a configuration.
    public func configuration(for profile: AgencyProfile, environment: [String: String]) throws -> ServiceConfiguration {
        func env(_ name: String) -> String? {
            environment[name].flatMap { $0.isEmpty ? nil : $0 }
        }
        guard let bootstrap = bootstrapServers ?? env("ACCORD_BOOTSTRAP_SERVERS") else {
            throw ValidationError("Kafka bootstrap servers are required: pass --bootstrap-servers or set ACCORD_BOOTSTRAP_SERVERS.")
        }
        var port = self.port
        if port == nil, let text = env("ACCORD_HTTP_PORT") {
            guard let parsed = Int(text) else { throw ValidationError("ACCORD_HTTP_PORT \"\(text)\" is not a port number.") }
            port = parsed
        }
        if let port, !(0...65_535).contains(port) {
            throw ValidationError("port \(port) is outside 0...65535.")
        }
        let levelText = logLevel ?? env("ACCORD_LOG_LEVEL") ?? "notice"
        guard let level = Logger.Level(rawValue: levelText.lowercased()) else {
            throw ValidationError("log level \"\(levelText)\" is not one of trace, debug, info, notice, warning, error, critical.")
        }
        if let partitions, partitions < 1 {
            throw ValidationError("--partitions must be at least 1.")
        }
        guard deliveryTimeout >= 1, shutdownTimeout >= 0 else {
            throw ValidationError("--delivery-timeout must be at least 1 and --shutdown-timeout at least 0.")
        }
        guard checkpointEvery >= 1, checkpointEvery <= 100_000 else {
            throw ValidationError("--checkpoint-every must be between 1 and 100000 (verifiers refuse chains with more unverified events), got \(checkpointEvery).")
        }
        guard checkpointInterval.isFinite, checkpointInterval >= 0.01, checkpointInterval <= 3600 else {
            throw ValidationError("--checkpoint-interval must be between 0.01 and 3600 seconds, got \(checkpointInterval).")
        }
        guard outboxMaxPending >= 1 else {
            throw ValidationError("--outbox-max-pending must be at least 1, got \(outboxMaxPending).")
        }
        guard let retention = OutboxRetention(text: outboxRetention) else {
            throw ValidationError("--outbox-retention \"\(outboxRetention)\" is neither a duration such as 30d, 12h, 45m, 90s nor a number of records.")
        }
        guard (1...3_600).contains(httpIdleTimeout) else {
            throw ValidationError("--http-idle-timeout must be between 1 and 3600 seconds, got \(httpIdleTimeout).")
        }
        if let bad = skippedSequences.first(where: { $0 < 1 }) {
            throw ValidationError("--skip-sequence must be at least 1, got \(bad).")
        }
        let agency = agencyId ?? env("ACCORD_AGENCY_ID")
        let folder = dataDir ?? env("ACCORD_DATA_DIR")
        let resolvedAgency = agency ?? profile.defaultAgencyId
        var keyPath = signingKey ?? env("ACCORD_SIGNING_KEY")
        if keyPath == nil, let folder {
            keyPath = URL(fileURLWithPath: folder).appendingPathComponent(SigningKeyFile.defaultPath(agencyId: resolvedAgency)).path
        }
        var outboxPath = outbox
        if outboxPath == nil, let folder {
            outboxPath = URL(fileURLWithPath: folder).appendingPathComponent("\(resolvedAgency).outbox.sqlite").path
        }
        var configuration = ServiceConfiguration(
            profile: profile, bootstrapServers: bootstrap, agencyId: agency,
            host: host, port: port, logLevel: level, partitions: partitions, consumerGroup: consumerGroup,
            kafkaProperties: try Self.properties(kafkaProperties, option: "--kafka-property"),
            consumerProperties: try Self.properties(consumerProperties, option: "--consumer-property"),
            deliveryTimeout: .seconds(deliveryTimeout), shutdownTimeout: .seconds(shutdownTimeout),
            signingKey: keyPath.map(SigningKeySource.file), checkpointEvery: checkpointEvery,
            checkpointInterval: .milliseconds(Int64((checkpointInterval * 1000).rounded())),
            outboxPath: outboxPath, outboxMaxPending: outboxMaxPending, outboxRetention: retention,
            acceptsRecordedTime: acceptRecordedTime, skippedSequences: Set(skippedSequences))
        configuration.httpIdleTimeoutSeconds = httpIdleTimeout
        return configuration
    }

    private static func properties(_ pairs: [String], option: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for pair in pairs {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw ValidationError("\(option) \"\(pair)\" must be key=value.")
            }
            result[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        return result
    }
}
