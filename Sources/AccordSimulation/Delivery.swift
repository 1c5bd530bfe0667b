import AccordEvents

/// How a simulated caseload reaches Kafka when it is published straight to the topics (not
/// through the services' intake, which number and time-stamp events themselves): each source
/// numbers its events in publication order, and each event is recorded (its Kafka timestamp)
/// when it happened, except that some provider events are recorded late and one source skips
/// sequence numbers. This exercises the "as shown then" perspective and the sequence-gap rule.
public struct DeliveryConfig: Sendable, Hashable {
    /// One provider event in this many is recorded late (0: none).
    public var lateEvery: Int
    /// Least and most hours a late event is recorded after it happened.
    public var lateHours: ClosedRange<Int>
    /// The agency whose numbering skips (a provider id); nil: none skips.
    public var skippingAgency: String?
    /// Which of that agency's events are numbered one higher than the previous plus one (1-based
    /// positions in its publication order): each leaves one number that never arrives.
    public var skipBefore: [Int]

    /// Creates a delivery configuration.
    public init(lateEvery: Int = 40, lateHours: ClosedRange<Int> = 24...144, skippingAgency: String? = "safe-hours",
                skipBefore: [Int] = [25, 150]) {
        self.lateEvery = lateEvery
        self.lateHours = lateHours
        self.skippingAgency = skippingAgency
        self.skipBefore = skipBefore
    }
}

/// One event as delivered: the event (with its sequence number) and when Kafka recorded it.
public struct DeliveredEvent: Sendable, Hashable {
    /// The event.
    public var event: AccordEvent
    /// Its Kafka timestamp: at or after the event's time.
    public var recordedAt: Timestamp
}

extension Simulation {
    /// The plan's submissions as delivered events, in publication order (the plan's order),
    /// deterministic for the seed.
    public func delivered(_ plan: SimulationPlan, _ delivery: DeliveryConfig = DeliveryConfig()) -> [DeliveredEvent] {
        var rng = SplitMix64.stream(seed: config.seed, 11)
        var sequences: [EventSource: Int64] = [:]
        var positions: [EventSource: Int] = [:]
        var providerEvents = 0
        var out: [DeliveredEvent] = []
        out.reserveCapacity(plan.submissions.count)
        for submission in plan.submissions {
            guard let source = submission.source else { continue }
            let position = positions[source, default: 0] + 1
            positions[source] = position
            var sequence = sequences[source, default: 0] + 1
            if source.agencyId == delivery.skippingAgency, delivery.skipBefore.contains(position) { sequence += 1 }
            sequences[source] = sequence
            let event = AccordEvent(id: submission.id, source: source, time: submission.time, sequence: sequence,
                                    payload: submission.data, causationId: submission.causationId?.lowercasedString,
                                    correlationId: submission.correlationId)
            var recordedAt = submission.time
            if source.kind == .interventions {
                providerEvents += 1
                if delivery.lateEvery > 0, providerEvents % delivery.lateEvery == 0 {
                    let hours = Int64(rng.int(delivery.lateHours))
                    recordedAt = submission.time.adding(seconds: hours * 3600) ?? submission.time
                }
            }
            out.append(DeliveredEvent(event: event, recordedAt: recordedAt))
        }
        return out
    }
}

extension Collection where Element == DeliveredEvent {
    /// The sequence numbers each source leaves unissued below its highest one, in order: the
    /// numbers a service publishing these events must skip to number them the same way.
    public func skippedSequences() -> [EventSource: [Int64]] {
        var used: [EventSource: Set<Int64>] = [:]
        for delivered in self { used[delivered.event.source, default: []].insert(delivered.event.sequence) }
        var skipped: [EventSource: [Int64]] = [:]
        for (source, numbers) in used {
            guard let highest = numbers.max(), highest > 0 else { continue }
            let missing = (1...highest).filter { !numbers.contains($0) }
            if !missing.isEmpty { skipped[source] = missing }
        }
        return skipped
    }
}
