import AccordEvents

/// Read access to every subject of a view, for questions that fold many subjects again
/// (an instant before the latest events, or "as shown" at `knownAt`).
public protocol ViewFactsReader: ViewStateSource {
    /// Every case id with facts, sorted.
    func allCaseIds() throws -> [String]
    /// Every contract id awarded or named by a referral, sorted.
    func allContractIds() throws -> [String]
    /// Every area with facts (local priorities), sorted.
    func allAreaIds() throws -> [String]
    /// Every source URN with events, sorted.
    func allSources() throws -> [String]
    /// A source's events recorded at or before `knownAt` (all when nil): sequence, event time, id.
    func sourceEvents(_ urn: String, knownAt: Timestamp?) throws -> [SourceEvent]
}

/// One event's place in its source's sequence.
public struct SourceEvent: Sendable, Hashable {
    /// The sequence number.
    public var sequence: Int64
    /// Event time.
    public var time: Timestamp
    /// Event id.
    public var eventId: String

    /// Creates one.
    public init(sequence: Int64, time: Timestamp, eventId: String) {
        self.sequence = sequence
        self.time = time
        self.eventId = eventId
    }
}
