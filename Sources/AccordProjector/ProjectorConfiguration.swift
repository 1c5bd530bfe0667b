import AccordEvents
import AccordIntegrity
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
    /// Reads superseded event versions in the current meaning before the projection
    /// (`case-transferred.v1` with a map of areas to offices); `.none` upcasts nothing.
    public var upcaster: EventUpcaster = .none
    /// Extra librdkafka consumer properties.
    public var consumerProperties: [String: String]
    /// The agencies' public keys. When set, every record is checked by a `ChainVerifier` before
    /// the projection; when nil, integrity checking is off and events are journaled unverified.
    public var keyRegistry: KeyRegistry?
    /// The projector's key file for journal checkpoints (generated when missing); nil:
    /// `ProjectorSigningKey.defaultPath(store:)`.
    public var signingKeyPath: String?
    /// The signer URN of a generated projector key.
    public var signer: String = ProjectorSigningKey.defaultSigner
    /// A journal checkpoint is signed after this many batches that applied events…
    public var journalCheckpointBatches: Int = 100
    /// …or once this much time passed since the last one while events flow, and at shutdown.
    public var journalCheckpointInterval: Duration = .seconds(10)
    /// When no event has been applied for this long and some are not yet under a journal
    /// checkpoint, one is signed, so the latest state can be proved within seconds.
    public var journalCheckpointIdle: Duration = .seconds(5)
    /// Unverified events one chain may hold before further ones are refused (`checkpoint-overdue`).
    public var maxUnverifiedPerChain: Int = 100_000
    /// Where the missing events of a chain are fetched from (the services of the chains'
    /// sources, `--chain-endpoint`). With a key registry and a source, a record that shows events
    /// missing from its chain is held, with the chain's later records, until the missing ones are
    /// fetched and verified; without one it is refused (`broken-chain`, `count-ahead`).
    public var chainRanges: (any ChainRangeSource)?
    /// The first wait before a failed fetch of a chain range is tried again (it doubles to 30 s).
    public var backfillRetry: Duration = .seconds(1)
    /// How long fetching a chain's missing events may keep failing before a flag is raised on
    /// the chain's source (at once when no attempt can succeed without an operator).
    public var sourceFlagAfter: Duration = .seconds(60)
    /// Most cases the projection engine keeps in memory (the rest are read from the store when touched).
    public var cacheCases: Int = 50_000

    /// Creates a configuration.
    public init(bootstrapServers: String, groupID: String = "accord-projector", storePath: String,
                host: String = "127.0.0.1", port: Int = 8080, batchSize: Int = 5_000,
                rules: ProjectionRules = .defaults, consumerProperties: [String: String] = [:],
                keyRegistry: KeyRegistry? = nil, signingKeyPath: String? = nil) {
        self.bootstrapServers = bootstrapServers
        self.groupID = groupID
        self.storePath = storePath
        self.host = host
        self.port = port
        self.batchSize = batchSize
        self.rules = rules
        self.consumerProperties = consumerProperties
        self.keyRegistry = keyRegistry
        self.signingKeyPath = signingKeyPath
    }
}
