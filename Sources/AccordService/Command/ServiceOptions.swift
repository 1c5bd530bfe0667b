import AccordKafka
import ArgumentParser
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
    @Option(help: "Seconds to wait for Kafka to acknowledge an event before answering 503.")
    public var deliveryTimeout: Int = 30

    /// Shutdown timeout in seconds.
    @Option(help: "Seconds to wait at shutdown for unacknowledged events.")
    public var shutdownTimeout: Int = 10

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
        return ServiceConfiguration(
            profile: profile, bootstrapServers: bootstrap, agencyId: agencyId ?? env("ACCORD_AGENCY_ID"),
            host: host, port: port, logLevel: level, partitions: partitions, consumerGroup: consumerGroup,
            kafkaProperties: try Self.properties(kafkaProperties, option: "--kafka-property"),
            consumerProperties: try Self.properties(consumerProperties, option: "--consumer-property"),
            deliveryTimeout: .seconds(deliveryTimeout), shutdownTimeout: .seconds(shutdownTimeout))
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
