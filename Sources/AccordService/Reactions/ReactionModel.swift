import AccordEvents
import AccordKafka
import AccordProjection
import AccordStore
import Synchronization

/// State a service derives from consumed events (its own and other agencies'), rebuilt from the
/// topics at every start. `apply` must be idempotent (an event may be seen twice) and must not
/// depend on the order of events from different topics or partitions.
public protocol ReactionModel: Sendable {
    /// Takes events into account, each with the instant Kafka stored it (the record timestamp, or
    /// the acknowledgement time for events this service just accepted). Throws when the state
    /// cannot be updated; the state then says it is incomplete until the service restarts.
    func apply(_ events: [IncomingEvent]) throws
}

extension ReactionModel {
    /// Takes one event into account.
    public func apply(_ event: AccordEvent, recordedAt: Timestamp) throws {
        try apply([IncomingEvent(event, recordedAt: recordedAt)])
    }

    /// Takes several events into account at once, all recorded at `recordedAt` (a batch the
    /// intake just accepted).
    public func apply(contentsOf events: [AccordEvent], recordedAt: Timestamp) throws {
        try apply(events.map { IncomingEvent($0, recordedAt: recordedAt) })
    }
}

/// Thrown by a reaction query once an update of its state has failed: events are missing from
/// it until the service restarts and reads the topics again.
public struct ReactionStateIncomplete: Error, Sendable, CustomStringConvertible {
    /// The failure that left the state incomplete.
    public var reason: String

    /// A sentence for logs and problem details.
    public var description: String {
        "the reaction state missed events when it could not be updated (\(reason)); restart the service to rebuild it from the topics"
    }
}

/// The accountability view an agency service derives its reactions from, kept in a store file
/// of its own (``UnjournaledView``) so that memory stays bounded whatever the caseload. Once an
/// update fails, every read throws ``ReactionStateIncomplete``.
final class ReactionView: Sendable {
    private let view: UnjournaledView
    private let failure = Mutex<String?>(nil)

    /// Opens an empty view at `storePath`, or in a temporary directory when nil.
    init(rules: ProjectionRules, storePath: String?) throws {
        view = try storePath.map { try UnjournaledView(path: $0, rules: rules) } ?? UnjournaledView(temporaryWith: rules)
    }

    func apply(_ events: [IncomingEvent]) throws {
        do {
            try view.apply(events)
        } catch {
            failure.withLock { $0 = $0 ?? "\(error)" }
            throw error
        }
    }

    func read<T>(_ body: (UnjournaledView.Snapshot) throws -> T) throws -> T {
        if let reason = failure.withLock({ $0 }) { throw ReactionStateIncomplete(reason: reason) }
        return try view.read(body)
    }
}

extension Timestamp {
    /// This instant plus whole days (unchanged if that leaves the representable range).
    func plusDays(_ days: Int) -> Timestamp {
        adding(seconds: Int64(days) * 86_400) ?? self
    }
}

extension ConsumerRecord {
    /// The record's broker timestamp as an instant, if it has one.
    var recordedAt: Timestamp? {
        guard let milliseconds = timestampMilliseconds, milliseconds >= 0 else { return nil }
        return Timestamp(secondsSinceEpoch: milliseconds / 1000, nanoseconds: Int32(milliseconds % 1000) * 1_000_000)
    }
}
