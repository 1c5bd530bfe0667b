import AccordEvents

/// One point of a contract's service-level series: a referral counted at an instant as meeting
/// (good) or missing the level. Ordered by instant (an exclusive point — a deadline passing —
/// counts just after its time), then event id.
public struct SeriesPoint: Sendable, Hashable, Comparable {
    /// When the referral is counted.
    public var at: Timestamp
    /// True when it counts only after `at` (a deadline that passed without an answer).
    public var exclusive: Bool
    /// The event it is counted from (an outcome, an answer, or the referral whose deadline passed).
    public var eventId: String
    /// Whether it meets the level.
    public var good: Bool
    /// The provider the referral names.
    public var providerId: String

    /// Creates a point.
    public init(at: Timestamp, exclusive: Bool, eventId: String, good: Bool, providerId: String = "") {
        self.at = at
        self.exclusive = exclusive
        self.eventId = eventId
        self.good = good
        self.providerId = providerId
    }

    /// Instant order, then event id.
    public static func < (a: SeriesPoint, b: SeriesPoint) -> Bool {
        if a.at != b.at { return a.at < b.at }
        if a.exclusive != b.exclusive { return !a.exclusive }
        return a.eventId < b.eventId
    }

    /// Whether two points are at the same instant.
    func sameInstant(_ other: SeriesPoint) -> Bool { at == other.at && exclusive == other.exclusive }
}

/// Which service level a series measures.
public enum SeriesKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// Completed out of finished interventions, at each outcome.
    case completion
    /// Referrals answered within the response limit, out of those due, at each answer or deadline.
    case response
}

extension ReferralRow {
    /// The row's point in a series, if it has one.
    public func point(_ kind: SeriesKind) -> SeriesPoint? {
        switch kind {
        case .completion:
            return outcome.map { counted(at: $0.at, eventId: $0.eventId, good: $0.completed) }
        case .response:
            guard let deadline = responseDeadline else { return nil }
            if let answered, answered.at <= deadline {
                return counted(at: answered.at, eventId: answered.eventId, good: true)
            }
            return SeriesPoint(at: deadline, exclusive: true, eventId: referralEventId, good: false, providerId: providerId)
        }
    }

    /// A point from an answer or outcome: counted at its own time, or at the referral's when the
    /// referral came later (a referral counts only from its own time; the point is then the
    /// referral event's).
    private func counted(at t: Timestamp, eventId: String, good: Bool) -> SeriesPoint {
        t < referredAt
            ? SeriesPoint(at: referredAt, exclusive: false, eventId: referralEventId, good: good, providerId: providerId)
            : SeriesPoint(at: t, exclusive: false, eventId: eventId, good: good, providerId: providerId)
    }
}

/// A contract's two service-level series, each a sorted list of points from the referrals made
/// under it. Points are added and removed as cases change; the flags are computed from the lists.
public struct ContractSeries: Sendable, Hashable {
    /// Completion points, sorted.
    public private(set) var completion: [SeriesPoint] = []
    /// Response points, sorted.
    public private(set) var response: [SeriesPoint] = []

    /// Empty series.
    public init() {}

    /// The points of `kind`.
    public func points(_ kind: SeriesKind) -> [SeriesPoint] { kind == .completion ? completion : response }

    /// Inserts a point in order (no effect if present).
    public mutating func insert(_ point: SeriesPoint, _ kind: SeriesKind) {
        switch kind {
        case .completion: Self.insert(point, into: &completion)
        case .response: Self.insert(point, into: &response)
        }
    }

    /// Removes a point (no effect if absent).
    public mutating func remove(_ point: SeriesPoint, _ kind: SeriesKind) {
        switch kind {
        case .completion: Self.remove(point, from: &completion)
        case .response: Self.remove(point, from: &response)
        }
    }

    /// Replaces a row's points: removes `old`'s, inserts `new`'s. Returns whether anything changed.
    @discardableResult
    public mutating func update(from old: ReferralRow?, to new: ReferralRow?) -> Bool {
        var changed = false
        for kind in SeriesKind.allCases {
            let before = old?.point(kind)
            let after = new?.point(kind)
            guard before != after else { continue }
            if let before { remove(before, kind) }
            if let after { insert(after, kind) }
            changed = true
        }
        return changed
    }

    private static func index(of point: SeriesPoint, in list: [SeriesPoint]) -> Int {
        var lo = 0
        var hi = list.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if list[mid] < point { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    private static func insert(_ point: SeriesPoint, into list: inout [SeriesPoint]) {
        if let last = list.last, last < point {
            list.append(point)
            return
        }
        let i = index(of: point, in: list)
        if i < list.count, list[i] == point { return }
        list.insert(point, at: i)
    }

    private static func remove(_ point: SeriesPoint, from list: inout [SeriesPoint]) {
        let i = index(of: point, in: list)
        if i < list.count, list[i] == point { list.remove(at: i) }
    }
}

extension ContractSeries {
    /// The contract-below-service-level flags of a contract (rule 8), sorted by id. When the
    /// contract is not awarded in the view, a flag is charged to the lowest provider id among the
    /// referrals counted when it opened (`fallbackProvider` only when no point names one).
    func flagRecords(contractId: String, contract: ContractFold?, fallbackProvider: String?,
                     rules: ProjectionRules) -> [FlagRecord] {
        let awardedTo = contract?.versions.first.map { providerURNString($0.terms.providerId) }
        let area = contract?.versions.first?.terms.area
        let ended = contract?.endedAt
        let endedEvent = contract?.endingEventId
        let note = contract == nil ? " (contract not awarded in the view; default service levels apply)" : ""
        func provider(_ lowest: String?) -> String {
            awardedTo ?? (lowest ?? fallbackProvider).map(providerURNString) ?? providerURNString("unknown")
        }
        var out: [FlagRecord] = []
        for kind in SeriesKind.allCases {
            let list = points(kind)
            var good = 0
            // Condition after each instant (several points at one instant: the last decides).
            var state: [(point: SeriesPoint, below: Bool, good: Int, n: Int, target: Double, provider: String?)] = []
            var lowestProvider: String?
            for (i, p) in list.enumerated() {
                if p.good { good += 1 }
                if !p.providerId.isEmpty, lowestProvider.map({ p.providerId < $0 }) ?? true { lowestProvider = p.providerId }
                let n = i + 1
                let target: Double = kind == .completion
                    ? (contract?.terms(at: p.at)?.serviceLevels.minimumCompletionRate ?? rules.minimumCompletionRate)
                    : rules.minimumResponseRate
                let below = n >= rules.minimumOutcomesForRate && Double(good) / Double(n) < target
                if let last = state.last, last.point.sameInstant(p) { state.removeLast() }
                state.append((p, below, good, n, target, lowestProvider))
            }
            var episode = 0
            var open: (start: SeriesPoint, good: Int, n: Int, target: Double, provider: String?)?
            func close(at end: SeriesPoint?, endedAt: Timestamp?) {
                guard let start = open else { return }
                episode += 1
                let rate = percent(Double(start.good) / Double(start.n))
                let what = kind == .completion
                    ? "Completion rate fell below the minimum \(percent(start.target)) at \(start.start.at): \(start.good) of \(start.n) outcomes completed (\(rate))"
                    : "Referral response rate fell below the minimum \(percent(start.target)) at \(start.start.at): \(start.good) of \(start.n) due referrals answered in time (\(rate))"
                var resolvedAt: Timestamp?
                var resolution: FlagResolution?
                var resolving: String?
                var resolutionText: String?
                if let endedAt, end.map({ endedAt <= $0.at }) ?? true {
                    resolvedAt = endedAt
                    resolution = .contractEnded
                    resolving = endedEvent
                    resolutionText = "; contract ended at \(endedAt)"
                } else if let end {
                    resolvedAt = end.at
                    resolution = .recovered
                    resolving = end.eventId
                    resolutionText = "; back at or above the minimum from \(end.at)"
                }
                out.append(FlagRecord(
                    id: "\(FlagRule.contractBelowServiceLevel.rawValue)|\(contractId)|\(kind.rawValue)|\(episode)",
                    rule: .contractBelowServiceLevel, subject: contractId, subjectKind: .contractId, contractId: contractId,
                    since: start.start.at, inclusive: !start.start.exclusive, resolvedAt: resolvedAt, resolution: resolution,
                    periods: [AccountabilityPeriod(from: start.start.at, accountable: provider(start.provider),
                                                   accountableKind: .interventions, area: area)],
                    causes: [FlagEventRef(eventId: start.start.eventId, at: start.start.at)], resolvingEventId: resolving,
                    details: what + note, resolutionDetails: resolutionText))
                open = nil
            }
            for s in state {
                if let ended, s.point.at >= ended { break }
                if s.below, open == nil {
                    open = (s.point, s.good, s.n, s.target, s.provider)
                } else if !s.below, open != nil {
                    close(at: s.point, endedAt: ended)
                }
            }
            close(at: nil, endedAt: ended)
        }
        out.sort { $0.id < $1.id }
        return out
    }
}

/// A rate as a whole-or-one-decimal percentage, e.g. `66.7%`.
func percent(_ rate: Double) -> String {
    guard rate.isFinite else { return "n/a" }
    let tenths = (rate * 1000).rounded(.toNearestOrEven) / 10
    return tenths == tenths.rounded() ? "\(Int(tenths))%" : "\(tenths)%"
}
