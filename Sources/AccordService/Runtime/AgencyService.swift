import AccordBus
import AccordEvents
import AccordIntegrity
import AccordKafka
import AccordRuntime
import Foundation
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

/// One agency service: HTTP intake into a durable outbox, a relay publishing the outbox to the
/// agency's own topic(s), reactions derived from consumed events, health and metrics.
///
/// Every event is hash-chained per `(source, topic, partition)` when it is accepted, and covered
/// by checkpoints signed with the agency's Ed25519 key (`schemas/integrity.md`); chain state and
/// sequence numbers live in the outbox, so a restart continues from it without reading the topic.
///
/// As a `Service` it learns the partition counts of its own topics (stored in the outbox after
/// the first start, so later starts need no broker), becomes ready, then runs the relay,
/// periodic checkpoints, retention and the reaction consumer until graceful shutdown. On
/// shutdown it stops intake, checkpoints every chain with uncovered events, lets the relay drain
/// the outbox for at most `shutdownTimeout` and flushes the producer; entries not drained stay in
/// the outbox and are sent at the next start. Put it in the Hummingbird application's services
/// (``makeApplication()`` does) so the HTTP server stops (finishing in-flight requests) first.
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
    let readiness = ServiceReadiness()
    let lag = LagReading()
    let reactions: AgencyReactions
    let outbox: Outbox
    let relay: OutboxRelay
    let intake: EventIntake
    /// This service's public key as a key registry entry (`GET /v1/keys`).
    public let registryEntry: RegisteredKey

    /// Creates the service, opens its outbox and creates its Kafka producer.
    ///
    /// - Parameters:
    ///   - alertSource: the commissioner's contract alerts (ignored for other kinds); without one,
    ///     `GET /v1/alerts` answers 503.
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
        do {
            outbox = try Outbox(path: configuration.resolvedOutboxPath, source: source, key: key, codec: codec,
                                checkpointEvery: configuration.checkpointEvery,
                                maxPending: configuration.outboxMaxPending,
                                skippedSequences: configuration.skippedSequences)
        } catch {
            throw ServiceSetupError("\(error)")
        }
        var producerProperties = configuration.kafkaProperties
        producerProperties["message.timeout.ms"] = String(max(1, configuration.deliveryTimeout.milliseconds))
        self.producer = try KafkaProducer(
            configuration: .init(bootstrapServers: configuration.bootstrapServers,
                                 clientID: "accord-\(configuration.profile.kind.rawValue)-\(configuration.agencyId)",
                                 properties: producerProperties),
            logger: logger)
        switch configuration.profile.kind {
        case .probation:
            reactions = .probation(try Self.openView(configuration) { try EnforcementWorklist(source: source, storePath: $0) })
        case .interventions:
            reactions = .interventions(try Self.openView(configuration) { try ReferralWorklist(source: source, storePath: $0) })
        case .commissioner: reactions = .commissioner(alertSource ?? UnconnectedContractAlertSource())
        }
        let relay = OutboxRelay(outbox: outbox, producer: producer, configuration: configuration,
                                metrics: self.metrics, clock: clock, logger: logger)
        self.relay = relay
        let model = reactions.model
        self.intake = EventIntake(
            source: source, outbox: outbox, clock: clock, readiness: readiness, metrics: self.metrics, logger: logger,
            onAccepted: { [logger, metrics = self.metrics] events in
                relay.notify()
                do {
                    try model.apply(contentsOf: events, recordedAt: clock.now())
                } catch {
                    metrics.reactionFailed(events.count)
                    logger.error("accepted events could not be applied to the reaction view; it is incomplete until a restart",
                                 metadata: ["events": "\(events.count)", "error": "\(error)"])
                }
            })
    }

    /// Opens the reaction view's store at the configured path.
    private static func openView<Model>(_ configuration: ServiceConfiguration,
                                        _ open: (String) throws -> Model) throws -> Model {
        let path = configuration.resolvedReactionStorePath
        do {
            return try open(path)
        } catch {
            throw ServiceSetupError("the reaction view could not be opened at \(path): \(error)")
        }
    }

    /// True once the service accepts events.
    public var isReady: Bool { readiness.isReady }

    /// The highest sequence number this source has used.
    public var lastSequence: Int64 { outbox.lastSequence }

    /// Outbox entries Kafka has not acknowledged yet.
    public var pendingCount: Int { outbox.pendingCount }

    /// The outbox file.
    public var outboxPath: String { outbox.path }

    /// Runs until graceful shutdown or cancellation (see the type's documentation).
    public func run() async throws {
        logger.info("starting", metadata: ["bootstrap": "\(configuration.bootstrapServers)", "outbox": "\(outbox.path)"])
        let pendingAtStart = outbox.pendingCount
        if pendingAtStart > 0 {
            logger.notice("the outbox holds entries not yet on Kafka from the last run; sending them", metadata: [
                "unsent": "\(pendingAtStart)"])
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [relay] in await relay.run() }
            await cancelWhenGracefulShutdown { [self] in await work() }
            readiness.close()
            await finish()
            relay.stop()
            // Fails the relay's sends still waiting for a delivery report, so it stops now.
            let report = await producer.shutdown(timeout: .milliseconds(500))
            if report.undelivered > 0 {
                logger.debug("records purged at producer shutdown stay unsent in the outbox",
                             metadata: ["records": "\(report.undelivered)"])
            }
        }
        logger.info("stopped", metadata: ["unsent": "\(outbox.pendingCount)"])
    }

    /// Startup, then the background work, until cancelled.
    private func work() async {
        guard await learnPartitions() else { return }
        let appliedAbove = outbox.lastSequence
        readiness.markReady()
        logger.info("accepting events", metadata: [
            "lastSequence": "\(outbox.lastSequence)", "chains": "\(outbox.chains.count)",
            "unsent": "\(outbox.pendingCount)", "partitions": "\(outbox.partitions)"])
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in await issueCheckpoints() }
            group.addTask { [self] in await consumeReactions(appliedAbove: appliedAbove) }
            group.addTask { [self] in await applyRetention() }
            group.addTask { [self] in await reportPending() }
            await group.waitForAll()
        }
    }

    /// Configured partition counts win; otherwise the ones stored in the outbox; otherwise they are
    /// probed (retrying until the broker answers). False when cancelled first.
    private func learnPartitions() async -> Bool {
        let topics = configuration.profile.ownTopics.map(\.name)
        let stored = outbox.partitions
        var counts: [String: Int32] = [:]
        for topic in topics {
            if let configured = configuration.partitions {
                counts[topic] = configured
            } else if let known = stored[topic] {
                counts[topic] = known
            }
        }
        while counts.count < topics.count {
            for topic in topics where counts[topic] == nil {
                do {
                    let count = try await TopicPartitions.count(of: topic, bootstrapServers: configuration.bootstrapServers,
                                                                properties: configuration.kafkaProperties,
                                                                timeout: configuration.queryTimeout, logger: logger)
                    if count > 0 {
                        counts[topic] = count
                    } else {
                        logger.warning("topic does not exist yet; events go to an explicit partition computed from the partition count, so the topic must exist (or pass --partitions)",
                                       metadata: ["topic": "\(topic)"])
                    }
                } catch {
                    logger.warning("cannot learn the partitions of an own topic; retrying", metadata: [
                        "topic": "\(topic)", "error": "\(error)"])
                }
            }
            if counts.count < topics.count {
                do { try await Task.sleep(for: configuration.retryDelay) } catch { return false }
            }
        }
        for (topic, count) in counts where stored[topic].map({ $0 != count }) ?? false {
            logger.warning("the partition count of an own topic changed; new events are placed by the new count", metadata: [
                "topic": "\(topic)", "before": "\(stored[topic] ?? 0)", "now": "\(count)"])
        }
        if counts != stored {
            do {
                try await outbox.setPartitions(counts)
            } catch {
                logger.error("cannot store the partition counts in the outbox", metadata: ["error": "\(error)"])
            }
        }
        return true
    }

    /// Every `checkpointInterval`, checkpoints each chain with events not yet covered.
    private func issueCheckpoints() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: configuration.checkpointInterval) } catch { return }
            do {
                if try await outbox.checkpoint(minimumUncovered: 1, issuedAt: clock.now()) > 0 { relay.notify() }
            } catch {
                logger.error("cannot write a checkpoint to the outbox", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Drops the bytes of published records past the retention, once a minute.
    private func applyRetention() async {
        while !Task.isCancelled {
            do {
                var pruned = 0
                repeat {
                    switch configuration.outboxRetention {
                    case .duration(let duration):
                        let cutoff = clock.now().adding(seconds: -duration.components.seconds)
                        pruned = try await outbox.prune(acceptedBefore: cutoff, keepNewest: nil)
                    case .count(let count):
                        pruned = try await outbox.prune(acceptedBefore: nil, keepNewest: count)
                    }
                    if pruned > 0 { logger.debug("outbox retention applied", metadata: ["records": "\(pruned)"]) }
                } while pruned > 0 && !Task.isCancelled
            } catch {
                logger.warning("cannot apply the outbox retention", metadata: ["error": "\(error)"])
            }
            do { try await Task.sleep(for: .seconds(60)) } catch { return }
        }
    }

    /// Keeps the pending gauge current while nothing is accepted (the relay drains it).
    private func reportPending() async {
        while !Task.isCancelled {
            metrics.pending(outbox.pendingCount)
            do { try await Task.sleep(for: .seconds(1)) } catch { return }
        }
    }

    /// After intake stopped: final checkpoints, then drain within the shutdown timeout.
    private func finish() async {
        guard readiness.isReady else { return }
        do {
            let issued = try await outbox.checkpoint(minimumUncovered: 1, issuedAt: clock.now())
            logger.info("final checkpoints written to the outbox", metadata: ["checkpoints": "\(issued)"])
        } catch {
            logger.error("cannot write the final checkpoints to the outbox; they are issued at the next start",
                         metadata: ["error": "\(error)"])
        }
        relay.notify()
        let left = await relay.drain(timeout: configuration.shutdownTimeout)
        metrics.pending(left)
        if left > 0 {
            logger.warning("the outbox was not drained before the shutdown timeout; the entries stay in the outbox and are sent at the next start",
                           metadata: ["unsent": "\(left)", "timeout": "\(configuration.shutdownTimeout)",
                                      "outbox": "\(outbox.path)"])
        } else {
            logger.info("outbox drained to Kafka")
        }
    }

    private func consumeReactions(appliedAbove: Int64) async {
        let consumer = ReactionConsumer(configuration: configuration, reactions: reactions.model, codec: codec,
                                        metrics: metrics, lag: lag, logger: logger, source: source,
                                        appliedAbove: appliedAbove)
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

extension Duration {
    /// Whole milliseconds, clamped to `Int`.
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }
}
