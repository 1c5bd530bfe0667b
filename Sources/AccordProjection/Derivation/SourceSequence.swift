import AccordEvents

/// A run of consecutive sequence numbers a source has delivered, with the event numbered `lo`.
public struct SequenceRange: Sendable, Hashable {
    /// First number of the run.
    public var lo: Int64
    /// Last number of the run.
    public var hi: Int64
    /// Event time of the event numbered `lo`.
    public var firstAt: Timestamp
    /// That event's id.
    public var firstEventId: String
}

/// The sequence numbers one source has delivered, as sorted, disjoint, non-adjacent runs.
/// The same set of events gives the same runs whatever order they arrived in.
public struct SourceSequence: Sendable, Hashable {
    /// The source.
    public let source: EventSource
    /// The runs, ascending.
    public private(set) var ranges: [SequenceRange] = []

    /// No numbers yet.
    public init(source: EventSource) { self.source = source }

    /// Restores runs read back from storage.
    public init(source: EventSource, ranges: [SequenceRange]) {
        self.source = source
        self.ranges = ranges
    }

    /// Adds the event numbered `sequence`; returns false when the number was already delivered.
    @discardableResult
    public mutating func insert(sequence: Int64, at time: Timestamp, eventId: String) -> Bool {
        guard sequence >= 1 else { return false }
        // First run whose hi ≥ sequence - 1 (it may absorb the number from the left).
        var lo = 0
        var hi = ranges.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if ranges[mid].hi < sequence - 1 { lo = mid + 1 } else { hi = mid }
        }
        let i = lo
        if i < ranges.count, ranges[i].lo <= sequence, sequence <= ranges[i].hi { return false }
        let joinsLeft = i < ranges.count && ranges[i].hi == sequence - 1
        let rightIndex = joinsLeft ? i + 1 : i
        let joinsRight = rightIndex < ranges.count && ranges[rightIndex].lo == sequence + 1
        switch (joinsLeft, joinsRight) {
        case (true, true):
            ranges[i].hi = ranges[rightIndex].hi
            ranges.remove(at: rightIndex)
        case (true, false):
            ranges[i].hi = sequence
        case (false, true):
            ranges[rightIndex].lo = sequence
            ranges[rightIndex].firstAt = time
            ranges[rightIndex].firstEventId = eventId
        case (false, false):
            ranges.insert(SequenceRange(lo: sequence, hi: sequence, firstAt: time, firstEventId: eventId), at: i)
        }
        return true
    }

    /// The highest number delivered.
    public var highest: Int64 { ranges.last?.hi ?? 0 }

    /// Rule 7 (sequence-gap): one open flag per missing run, from the event time of the source's
    /// first event after it. As known now a gap exists only while numbers are missing; once they
    /// arrive it is gone (the "as shown" perspective shows the gaps the view had then).
    public func flagRecords() -> [FlagRecord] {
        gapList.map(flag(for:))
    }

    /// The missing runs below the highest number, each with the delivered run after it.
    public var gapList: [SequenceGap] {
        var out: [SequenceGap] = []
        var next: Int64 = 1
        for range in ranges {
            if range.lo > next { out.append(SequenceGap(from: next, through: range.lo - 1, after: range)) }
            next = range.hi + 1
        }
        return out
    }

    /// The sequence-gap flag of one missing run.
    func flag(for gap: SequenceGap) -> FlagRecord {
        let urn = source.urn
        let text = gap.from == gap.through ? "\(gap.from)" : "\(gap.from)–\(gap.through)"
        return FlagRecord(
            id: "\(FlagRule.sequenceGap.rawValue)|\(urn)|\(gap.from)", rule: .sequenceGap, subject: urn,
            subjectKind: nil, since: gap.after.firstAt, inclusive: true,
            periods: [AccountabilityPeriod(from: gap.after.firstAt, accountable: urn, accountableKind: source.kind, area: nil)],
            causes: [FlagEventRef(eventId: gap.after.firstEventId, at: gap.after.firstAt)],
            details: "Source \(urn) is missing sequence number(s) \(text): the view holds its event \(gap.after.lo) (at \(gap.after.firstAt)) but not these")
    }
}

/// One missing run of a source's sequence numbers and the delivered run right after it: all a
/// sequence-gap flag is made of, so two gaps with equal values give equal flags.
public struct SequenceGap: Sendable, Hashable {
    /// First missing number.
    public var from: Int64
    /// Last missing number.
    public var through: Int64
    /// The delivered run after the gap.
    public var after: SequenceRange
}
