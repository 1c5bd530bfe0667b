import AccordBus
import Foundation
import AccordEvents
import AccordIntegrity
import AccordKafka
import Hummingbird
import Logging
import ServiceLifecycle

/// Why a service could not be set up.
public struct ServiceSetupError: Error, Sendable, CustomStringConvertible {
    /// What is wrong.
    public var message: String

    /// Creates the error.
    public init(_ message: String) {
        self.message = message
    }

    /// The message.
    public var description: String { message }
}

/// The state an agency service derives from consumed events, by agency kind.
enum AgencyReactions: Sendable {
    case probation(EnforcementWorklist)
    case interventions(ReferralWorklist)
    case commissioner(any ContractAlertSource)

    var model: any ReactionModel {
        switch self {
        case .probation(let worklist): worklist
        case .interventions(let worklist): worklist
        case .commissioner(let source): source
        }
    }
}

/// One agency service: HTTP intake publishing the agency's own events, reactions derived from
/// other agencies' events, health and metrics.
///
/// Every event it publishes is hash-chained per `(source, topic, partition)` and covered by
/// checkpoints signed with the agency's Ed25519 key (`schemas/integrity.md`; see ``ChainPublisher``).
///
/// As a `Service` it replays its own topic(s) at startup (continuing its sequence numbers and
/// chains, learning the ids it published), becomes ready, then consumes the other agencies' topics
/// and issues periodic checkpoints until graceful shutdown; then it checkpoints every chain with
/// uncovered events, closes its consumers and flushes the producer. Put it in the
/// Hummingbird application's services (``makeApplication()`` does) so the HTTP server stops
/// (finishing in-flight requests) before the producer is flushed.
public final class AgencyService: Service, Sendable {
    /// The configuration.
    public let configuration: ServiceConfiguration
    /// The agency's CloudEvents source.
    public let source: EventSource
    /// The service's metrics.
    public let metrics: ServiceMetrics
    /// Where "now" comes from.
    public let clock: ServiceClock
    let logger: Logger
    let producer: KafkaProducer
    let codec: EventCodec
    let ledger = PublicationLedger()
    let readiness = Readiness()
    let lag = LagReading()
    let reactions: AgencyReactions
    let intake: EventIntake
    let publisher: ChainPublisher
    /// This service's public key as a key registry entry (`GET /v1/keys`).
    public let registryEntry: RegisteredKey

    /// Creates the service and its Kafka producer.
    ///
    /// - Parameters:
    ///   - alertSource: the commissioner's contract alerts (ignored for other kinds); defaults to
    ///     ``ProjectionContractAlertSource`` (the `AccordProjection` adapter).
    ///   - metrics: metrics to record into; a fresh registry by default.
    public init(configuration: ServiceConfiguration, clock: ServiceClock = .system,
                alertSource: (any ContractAlertSource)? = nil, metrics: ServiceMetrics? = nil,
                logger: Logger? = nil) throws {
        guard let source = EventSource(kind: configuration.profile.kind, agencyId: configuration.agencyId) else {
            throw ServiceSetupError("agency id \"\(configuration.agencyId)\" is invalid: use 1 to 63 lower-case letters, digits and '-', starting with a letter or digit")
        }
        self.configuration = configuration
        self.source = source
        self.clock = clock
        self.metrics = metrics ?? ServiceMetrics(agencyId: configuration.agencyId)
        var logger = logger ?? Logger(label: "accord.\(configuration.profile.serviceName)")
        logger.logLevel = configuration.logLevel
        logger[metadataKey: "source"] = "\(source.urn)"
        self.codec = EventCodec(maxPayloadBytes: configuration.maxPayloadBytes)
        let key: AgencySigningKey
        switch configuration.resolvedSigningKey {
        case .key(let given, let validFrom):
            guard given.signer == source.urn else {
                throw ServiceSetupError("the signing key is the key of \(given.signer), not of this service's source \(source.urn)")
            }
            key = given
            registryEntry = given.registryEntry(validFrom: validFrom)
        case .file(let path):
            let loaded = try SigningKeyFile.loadOrGenerate(path: path, signer: source.urn)
            key = loaded.key
            registryEntry = loaded.key.registryEntry(validFrom: loaded.validFrom)
            if loaded.generated {
                logger.notice("generated a new signing key; register its public key with the projector and auditors", metadata: [
                    "file": "\(path)", "keyId": "\(key.keyId)", "publicKey": "\(Data(registryEntry.publicKey).base64EncodedString())"])
            }
            if let warning = loaded.permissionWarning { logger.warning("\(warning)") }
        }
        logger[metadataKey: "keyId"] = "\(key.keyId)"
        self.logger = logger
        var producerProperties = configuration.kafkaProperties
        producerProperties["message.timeout.ms"] = String(max(1, configuration.deliveryTimeout.components.seconds * 1000
            + configuration.deliveryTimeout.components.attoseconds / 1_000_000_000_000_000))
        self.producer = try KafkaProducer(
            configuration: .init(bootstrapServers: configuration.bootstrapServers,
                                 clientID: "accord-\(configuration.profile.kind.rawValue)-\(configuration.agencyId)",
                                 properties: producerProperties),
            logger: logger)
        switch configuration.profile.kind {
        case .probation: reactions = .probation(EnforcementWorklist(source: source))
        case .interventions: reactions = .interventions(ReferralWorklist(source: source))
        case .commissioner: reactions = .commissioner(alertSource ?? ProjectionContractAlertSource())
        }
        let model = reactions.model
        let metrics = self.metrics
        let clock = self.clock
        let publisher = ChainPublisher(source: source, key: key, producer: producer, codec: codec,
                                       metrics: self.metrics, logger: logger)
        self.publisher = publisher
        self.intake = EventIntake(
            source: source, publisher: publisher, ledger: ledger,
            clock: clock, readiness: readiness, checkpointEvery: configuration.checkpointEvery, logger: logger,
            onPublished: { events in
                let now = clock.now()
                for event in events {
                    model.apply(event, recordedAt: now)
                    metrics.published(topic: event.topic.name)
                }
            })
    }

    /// True once the startup replay of the own topic(s) finished and the intake accepts events.
    public var isReady: Bool { readiness.isReady }

    /// The highest sequence number this source has used.
    public var lastSequence: Int64 { ledger.lastSequence }

    /// Replays the own topic(s), then consumes other agencies' topics and issues checkpoints until
    /// graceful shutdown or cancellation; then checkpoints every chain with uncovered events, closes
    /// the consumers and flushes the producer. Throws ``ChainHistoryError`` when the own topic holds
    /// a record of this source that does not extend its chain (the service refuses to start).
    public func run() async throws {
        logger.info("starting", metadata: ["bootstrap": "\(configuration.bootstrapServers)"])
        var failure: (any Error)?
        do {
            try await cancelWhenGracefulShutdown { [self] in try await work() }
        } catch {
            failure = error
        }
        if isReady {
            let issued = await publisher.gate.withGate {
                await publisher.checkpoint(minimumUncovered: 1, issuedAt: clock.now())
            }
            logger.info("final checkpoints published", metadata: ["checkpoints": "\(issued)"])
        }
        let report = await producer.shutdown(timeout: configuration.shutdownTimeout)
        if report.undelivered > 0 {
            logger.error("events were not delivered before shutdown", metadata: ["undelivered": "\(report.undelivered)"])
        }
        if let failure {
            logger.critical("\(failure)")
            throw failure
        }
        logger.info("stopped")
    }

    private func work() async throws(ChainHistoryError) {
        let replay = OwnTopicReplay(source: source, configuration: configuration, ledger: ledger,
                                    reactions: reactions.model, codec: codec, key: publisher.key,
                                    metrics: metrics, logger: logger)
        while true {
            do {
                let summary = try await replay.run()
                publisher.resume(partitions: summary.partitions, chains: summary.chains)
                readiness.markReady()
                logger.info("own topics replayed; accepting events", metadata: [
                    "records": "\(summary.records)", "ownEvents": "\(summary.ownEvents)",
                    "checkpoints": "\(summary.checkpoints)", "chains": "\(summary.chains.count)",
                    "lastSequence": "\(ledger.lastSequence)", "partitions": "\(summary.partitions)"])
                break
            } catch let error as ChainHistoryError {
                throw error
            } catch {
                if Task.isCancelled { return }
                logger.warning("could not replay own topics; retrying", metadata: ["error": "\(error)"])
                do { try await Task.sleep(for: configuration.retryDelay) } catch { return }
            }
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in await issueCheckpoints() }
            group.addTask { [self] in await consumeReactions() }
            await group.waitForAll()
        }
    }

    /// Every `checkpointInterval`, checkpoints each chain with events not yet covered.
    private func issueCheckpoints() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: configuration.checkpointInterval) } catch { return }
            _ = await publisher.gate.withGate {
                await publisher.checkpoint(minimumUncovered: 1, issuedAt: clock.now())
            }
        }
    }

    private func consumeReactions() async {
        let consumer = ReactionConsumer(configuration: configuration, reactions: reactions.model, codec: codec,
                                        metrics: metrics, lag: lag, logger: logger)
        while !Task.isCancelled {
            do {
                try await consumer.run()
            } catch {
                if Task.isCancelled { return }
                logger.error("reaction consumer failed; restarting", metadata: ["error": "\(error)"])
                do { try await Task.sleep(for: configuration.retryDelay) } catch { return }
            }
        }
    }
}
