import AccordEvents
import AccordHTTP
import AccordRuntime
import Foundation
import Logging

/// The result of one intake request.
enum IntakeOutcome: Sendable {
    /// Every event is in the outbox (some may be earlier acceptances of retried ids or keys).
    case accepted([Acknowledgement])
    /// An id was already used for a different event; nothing was accepted.
    case conflict([FieldError])
    /// The idempotency key was already used for a different request; nothing was accepted.
    case keyConflict(String)
    /// The service is not ready (still starting).
    case unavailable(String)
    /// The outbox holds its bound of unsent entries (Kafka is unreachable or slow); nothing was accepted.
    case full(pending: Int, limit: Int)
    /// The outbox could not be written; nothing was accepted.
    case failed(String)
}

/// Turns validated submissions into events of this agency in the durable outbox: one outbox
/// transaction per request assigns id, time, source, sequence and chain position, answers
/// retried ids and idempotency keys from the outbox, and seals every event into its chain. The
/// relay is woken once the transaction is committed; the request is answered without waiting
/// for Kafka.
final class EventIntake: Sendable {
    let source: EventSource
    private let outbox: Outbox
    private let clock: ServiceClock
    private let readiness: ServiceReadiness
    private let metrics: ServiceMetrics
    private let logger: Logger
    /// Called with every newly accepted event, after it is committed to the outbox.
    private let onAccepted: @Sendable ([AccordEvent]) -> Void

    init(source: EventSource, outbox: Outbox, clock: ServiceClock, readiness: ServiceReadiness,
         metrics: ServiceMetrics, logger: Logger, onAccepted: @escaping @Sendable ([AccordEvent]) -> Void) {
        self.source = source
        self.outbox = outbox
        self.clock = clock
        self.readiness = readiness
        self.metrics = metrics
        self.logger = logger
        self.onAccepted = onAccepted
    }

    /// Accepts `submissions` (already validated as a whole) into the outbox.
    func accept(_ submissions: [IntakeSubmission], idempotencyKey: String?) async -> IntakeOutcome {
        guard readiness.isReady else {
            return .unavailable("the service is starting: its outbox is open but the partition counts of its topics are not known yet")
        }
        guard !readiness.isClosed else {
            return .unavailable("the service is shutting down and accepts no new events")
        }
        let appended: Outbox.Appended
        do {
            appended = try await outbox.append(submissions, idempotencyKey: idempotencyKey, now: clock.now())
        } catch {
            logger.error("cannot write to the outbox; the request is refused", metadata: ["error": "\(error)"])
            return .failed("the outbox could not be written (\(error)); nothing was accepted")
        }
        switch appended {
        case .accepted(let acknowledgements, let fresh):
            if !fresh.isEmpty { onAccepted(fresh) }
            metrics.pending(outbox.pendingCount)
            return .accepted(acknowledgements)
        case .conflict(let errors):
            return .conflict(errors)
        case .keyConflict(let detail):
            return .keyConflict(detail)
        case .full(let pending, let limit):
            return .full(pending: pending, limit: limit)
        }
    }
}
