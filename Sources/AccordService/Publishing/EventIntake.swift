import AccordEvents
import AccordKafka
import Foundation
import Logging

/// One event whose publication was not acknowledged by the broker.
public struct UnacknowledgedEvent: Sendable, Hashable, Codable {
    /// Event id (lower-case UUID); a retry with this id is safe.
    public var id: String
    /// CloudEvents type.
    public var type: String
    /// Subject.
    public var subject: String
    /// The sequence number it was given (never reused, even if the event was not written).
    public var sequence: Int64
    /// Why it was not acknowledged.
    public var error: String
}

/// The result of publishing one intake request.
public enum PublishOutcome: Sendable {
    /// Every event is acknowledged (some may be earlier acknowledgements of retried ids).
    case accepted([Acknowledgement])
    /// An id was already used for a different event; nothing was published.
    case conflict([IntakeItemError])
    /// The service is not ready (startup replay of its own topic not finished).
    case unavailable(String)
    /// An event would join a chain halted after a delivery failure; nothing was published.
    case halted(String)
    /// The broker did not acknowledge some events. `acknowledged` were written; `unacknowledged`
    /// may or may not have been written (a timed-out delivery can still land).
    case failed(acknowledged: [Acknowledgement], unacknowledged: [UnacknowledgedEvent])
}

/// Turns validated submissions into events of this agency and publishes them: assigns id, time,
/// source and sequence, answers retried ids from the ledger, and reports acknowledgements in
/// request order. Sequence assignment, chain sealing and producing happen under one FIFO gate
/// (the ``ChainPublisher``'s), so sequence order is chain order is the order on each partition;
/// once Kafka acknowledged a request's events, chains with `checkpointEvery` uncovered events get
/// their signed checkpoint before the gate is released.
final class EventIntake: Sendable {
    let source: EventSource
    private let publisher: ChainPublisher
    let ledger: PublicationLedger
    private let clock: ServiceClock
    private let readiness: Readiness
    private let checkpointEvery: Int64
    private let logger: Logger
    /// Called with every newly acknowledged event, before the request is answered.
    private let onPublished: @Sendable ([AccordEvent]) async -> Void

    init(source: EventSource, publisher: ChainPublisher, ledger: PublicationLedger, clock: ServiceClock,
         readiness: Readiness, checkpointEvery: Int, logger: Logger,
         onPublished: @escaping @Sendable ([AccordEvent]) async -> Void) {
        self.source = source
        self.publisher = publisher
        self.ledger = ledger
        self.clock = clock
        self.readiness = readiness
        self.checkpointEvery = Int64(max(1, checkpointEvery))
        self.logger = logger
        self.onPublished = onPublished
    }

    /// Publishes `submissions` (already validated as a whole) and waits for the broker.
    func publish(_ submissions: [Submission]) async -> PublishOutcome {
        guard readiness.isReady else {
            return .unavailable("the service is still reading its own topic to continue its sequence numbers and chains")
        }
        let (outcome, fresh) = await publisher.gate.withGate { () -> (PublishOutcome, [AccordEvent]) in
            await publishHoldingGate(submissions)
        }
        if !fresh.isEmpty { await onPublished(fresh) }
        return outcome
    }

    private enum Slot {
        case existing(Acknowledgement)
        case fresh(Int)
    }

    private func publishHoldingGate(_ submissions: [Submission]) async -> (PublishOutcome, [AccordEvent]) {
        var slots: [Slot] = []
        var conflicts: [IntakeItemError] = []
        var pending: [Submission] = []
        for submission in submissions {
            if let id = submission.id, let entry = ledger.entry(id) {
                if entry.kind == submission.kind && entry.payloadHash == submission.payload.hashValue {
                    slots.append(.existing(entry.acknowledgement))
                } else {
                    conflicts.append(IntakeItemError(
                        index: submission.index, pointer: "", field: "id",
                        message: "id \(id.uuidString.lowercased()) was already published as a different event (\(entry.acknowledgement.type) about \(entry.acknowledgement.subject)); use a new id",
                        reason: "id-conflict"))
                }
            } else {
                slots.append(.fresh(pending.count))
                pending.append(submission)
            }
        }
        if !conflicts.isEmpty { return (.conflict(conflicts), []) }
        guard !pending.isEmpty else {
            return (.accepted(slots.compactMap { if case .existing(let ack) = $0 { ack } else { nil } }), [])
        }
        let faults = publisher.faults
        if !faults.isEmpty {
            for submission in pending {
                let topic = submission.payload.kind.topic.name
                if let chain = publisher.chain(topic: topic, partitionKey: submission.payload.subjectId),
                   let reason = faults[chain] {
                    return (.halted(ChainHaltedError(chain: chain, reason: reason).description), [])
                }
            }
        }
        let now = clock.now()
        let first = ledger.allocate(pending.count)
        let events = pending.enumerated().map { offset, submission in
            AccordEvent(id: submission.id ?? UUID(), source: source, time: submission.time ?? now,
                        sequence: first + Int64(offset), payload: submission.payload,
                        causationId: submission.causationId, correlationId: submission.correlationId)
        }
        let results = await publisher.publish(events)
        var acknowledgements: [Acknowledgement?] = []
        var unacknowledged: [UnacknowledgedEvent] = []
        var published: [AccordEvent] = []
        for (event, result) in zip(events, results) {
            switch result {
            case .success(let publication):
                let ack = Acknowledgement(event: publication.event, metadata: publication.metadata)
                ledger.record(publication.event, acknowledgement: ack)
                acknowledgements.append(ack)
                published.append(publication.event)
            case .failure(let error):
                acknowledgements.append(nil)
                unacknowledged.append(UnacknowledgedEvent(id: event.idString, type: event.type, subject: event.subject,
                                                          sequence: event.sequence, error: "\(error)"))
            }
        }
        if !published.isEmpty {
            await publisher.checkpoint(minimumUncovered: checkpointEvery, issuedAt: clock.now())
        }
        if !unacknowledged.isEmpty {
            logger.error("publication not acknowledged", metadata: [
                "unacknowledged": "\(unacknowledged.count)", "acknowledged": "\(published.count)",
                "error": "\(unacknowledged.first?.error ?? "")"])
            let acked = slots.compactMap { slot -> Acknowledgement? in
                switch slot {
                case .existing(let ack): ack
                case .fresh(let index): acknowledgements[index]
                }
            }
            return (.failed(acknowledged: acked, unacknowledged: unacknowledged), published)
        }
        let all = slots.compactMap { slot -> Acknowledgement? in
            switch slot {
            case .existing(let ack): ack
            case .fresh(let index): acknowledgements[index]
            }
        }
        return (.accepted(all), published)
    }
}
