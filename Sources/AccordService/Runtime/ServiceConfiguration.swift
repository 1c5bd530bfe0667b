import AccordHTTP
import AccordEvents
import AccordIntegrity
import Foundation
import Logging

/// How long the outbox keeps published records (their bytes) for chain range reads.
public enum OutboxRetention: Sendable, Hashable {
    /// Records accepted longer ago than this are dropped once published.
    case duration(Duration)
    /// Only the newest this many records are kept once published.
    case count(Int)

    /// The default: 30 days.
    public static let `default` = OutboxRetention.duration(.seconds(30 * 86_400))

    /// Parses `30d`, `12h`, `45m`, `90s` (a duration) or a plain number of records.
    public init?(text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard let unit = trimmed.last else { return nil }
        if let count = Int(trimmed) {
            guard count >= 1 else { return nil }
            self = .count(count)
            return
        }
        let factor: Int64
        switch unit {
        case "d": factor = 86_400
        case "h": factor = 3600
        case "m": factor = 60
        case "s": factor = 1
        default: return nil
        }
        guard let amount = Int64(trimmed.dropLast()), amount >= 1, amount <= 36_500 * 86_400 / factor else { return nil }
        self = .duration(.seconds(amount * factor))
    }
}

/// Where an agency service gets its Ed25519 signing key (`schemas/integrity.md` §5).
public enum SigningKeySource: Sendable {
    /// A key file: loaded if it exists, otherwise generated (mode 0600) for the service's source.
    /// The registry entry's `validFrom` is the file's modification time (when it was generated).
    case file(String)
    /// A key held in memory (tests, embedding), with the `validFrom` of its registry entry.
    case key(AgencySigningKey, validFrom: Timestamp)
}

/// Everything an agency service needs to run.
public struct ServiceConfiguration: Sendable {
    /// Which service this is.
    public var profile: AgencyProfile
    /// The agency's id within its kind (`source` is `urn:accord:<kind>:<agencyId>`).
    public var agencyId: String
    /// Kafka bootstrap servers.
    public var bootstrapServers: String
    /// HTTP bind host.
    public var host: String
    /// HTTP port (0 picks a free one).
    public var port: Int
    /// Log level of the service's loggers.
    public var logLevel: Logger.Level
    /// Partitions of each own topic; nil probes partitions 0, 1, 2, … until one does not exist.
    public var partitions: Int32?
    /// Consumer group of the reaction consumer; nil means `accord-<kind>-<agencyId>`.
    public var consumerGroup: String?
    /// librdkafka properties applied to every client (security settings, for example).
    public var kafkaProperties: [String: String]
    /// Extra properties for the reaction consumer (group timings such as `session.timeout.ms`).
    public var consumerProperties: [String: String]
    /// Largest request body accepted.
    public var maxBodyBytes: Int
    /// Largest `data` of one event (the codec's limit).
    public var maxPayloadBytes: Int
    /// How long the producer tries to deliver one outbox entry before the relay tries again.
    public var deliveryTimeout: Duration
    /// How long graceful shutdown waits for the outbox to drain to Kafka.
    public var shutdownTimeout: Duration
    /// How often the reaction lag gauge is refreshed.
    public var lagInterval: Duration
    /// Wait between attempts when the broker cannot be reached at startup.
    public var retryDelay: Duration
    /// Timeout of one partition probe or watermark query.
    public var queryTimeout: Duration
    /// The signing key of the agency's chain checkpoints; nil means the file
    /// `<agencyId>.signing-key.json` in the working directory (generated when missing).
    public var signingKey: SigningKeySource?
    /// A chain with this many events not yet covered by a checkpoint gets one at once.
    public var checkpointEvery: Int
    /// Every chain with uncovered events gets a checkpoint at least this often.
    public var checkpointInterval: Duration
    /// The outbox file; nil means `<agencyId>.outbox.sqlite` beside the signing key file (or in
    /// the working directory when the key is held in memory).
    public var outboxPath: String?
    /// The most unsent outbox entries; beyond it the intake answers 503 with `Retry-After`.
    public var outboxMaxPending: Int
    /// How long published records stay in the outbox for chain range reads.
    public var outboxRetention: OutboxRetention
    /// Whether the intake takes a `recordedtime` per event (when the agency's own system
    /// recorded it, for importing history) and gives the Kafka record that timestamp.
    public var acceptsRecordedTime: Bool
    /// Sequence numbers the service never issues (fault injection: partners see sequence gaps).
    public var skippedSequences: Set<Int64>
    /// Seconds an HTTP connection may stay silent before the server closes it.
    public var httpIdleTimeoutSeconds = HTTPServerSetup.defaultIdleTimeoutSeconds

    /// Creates a configuration with the profile's defaults.
    public init(profile: AgencyProfile, bootstrapServers: String, agencyId: String? = nil,
                host: String = "127.0.0.1", port: Int? = nil, logLevel: Logger.Level = .notice,
                partitions: Int32? = nil, consumerGroup: String? = nil,
                kafkaProperties: [String: String] = [:], consumerProperties: [String: String] = [:],
                maxBodyBytes: Int = 5 * 1024 * 1024, maxPayloadBytes: Int = EventCodec.defaultMaxPayloadBytes,
                deliveryTimeout: Duration = .seconds(30), shutdownTimeout: Duration = .seconds(10),
                lagInterval: Duration = .seconds(5), retryDelay: Duration = .seconds(2),
                queryTimeout: Duration = .seconds(5), signingKey: SigningKeySource? = nil,
                checkpointEvery: Int = 1000, checkpointInterval: Duration = .seconds(1),
                outboxPath: String? = nil, outboxMaxPending: Int = 100_000,
                outboxRetention: OutboxRetention = .default, acceptsRecordedTime: Bool = false,
                skippedSequences: Set<Int64> = []) {
        self.profile = profile
        self.agencyId = agencyId ?? profile.defaultAgencyId
        self.bootstrapServers = bootstrapServers
        self.host = host
        self.port = port ?? profile.defaultPort
        self.logLevel = logLevel
        self.partitions = partitions
        self.consumerGroup = consumerGroup
        self.kafkaProperties = kafkaProperties
        self.consumerProperties = consumerProperties
        self.maxBodyBytes = maxBodyBytes
        self.maxPayloadBytes = maxPayloadBytes
        self.deliveryTimeout = deliveryTimeout
        self.shutdownTimeout = shutdownTimeout
        self.lagInterval = lagInterval
        self.retryDelay = retryDelay
        self.queryTimeout = queryTimeout
        self.signingKey = signingKey
        self.checkpointEvery = max(1, checkpointEvery)
        self.checkpointInterval = checkpointInterval
        self.outboxPath = outboxPath
        self.outboxMaxPending = max(1, outboxMaxPending)
        self.outboxRetention = outboxRetention
        self.acceptsRecordedTime = acceptsRecordedTime
        self.skippedSequences = skippedSequences
    }

    /// The outbox file: the configured one, or `<agencyId>.outbox.sqlite` beside the key file.
    public var resolvedOutboxPath: String {
        if let outboxPath { return outboxPath }
        let name = "\(agencyId).outbox.sqlite"
        guard case .file(let keyPath) = resolvedSigningKey else { return name }
        return URL(fileURLWithPath: keyPath).deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// The reaction view's store file: `<agencyId>.reactions.sqlite` beside the outbox. It is
    /// derived state, replaced at every start.
    public var resolvedReactionStorePath: String {
        let name = "\(agencyId).reactions.sqlite"
        let directory = URL(fileURLWithPath: resolvedOutboxPath).deletingLastPathComponent()
        return directory.appendingPathComponent(name).path
    }

    /// The signing key source, with the default file `<agencyId>.signing-key.json` when none is set.
    public var resolvedSigningKey: SigningKeySource {
        signingKey ?? .file(SigningKeyFile.defaultPath(agencyId: agencyId))
    }

    /// The reaction consumer's group id.
    public var resolvedConsumerGroup: String {
        consumerGroup ?? "accord-\(profile.kind.rawValue)-\(agencyId)"
    }
}
