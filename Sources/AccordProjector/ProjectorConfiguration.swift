import AccordProjection
import Foundation

/// Everything the projector needs to run.
public struct ProjectorConfiguration: Sendable {
    /// Kafka bootstrap servers.
    public var bootstrapServers: String
    /// Consumer group of the projector.
    public var groupID: String
    /// Path of the SQLite store.
    public var storePath: String
    /// Host the query API listens on.
    public var host: String
    /// Port the query API listens on (0 picks a free port).
    public var port: Int
    /// Largest number of records applied in one store transaction.
    public var batchSize: Int
    /// Thresholds of the accountability rules.
    public var rules: ProjectionRules
    /// Extra librdkafka consumer properties.
    public var consumerProperties: [String: String]

    /// Creates a configuration.
    public init(bootstrapServers: String, groupID: String = "accord-projector", storePath: String,
                host: String = "127.0.0.1", port: Int = 8080, batchSize: Int = 1_000,
                rules: ProjectionRules = .defaults, consumerProperties: [String: String] = [:]) {
        self.bootstrapServers = bootstrapServers
        self.groupID = groupID
        self.storePath = storePath
        self.host = host
        self.port = port
        self.batchSize = batchSize
        self.rules = rules
        self.consumerProperties = consumerProperties
    }
}
