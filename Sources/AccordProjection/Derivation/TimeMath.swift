import AccordEvents

extension Timestamp {
    /// This instant plus whole days, or nil when that leaves the representable range.
    func addingDays(_ days: Int) -> Timestamp? {
        let (seconds, overflow) = Int64(days).multipliedReportingOverflow(by: 86_400)
        guard !overflow else { return nil }
        return adding(seconds: seconds)
    }

    /// Days (fractional) from `other` to this instant.
    func days(since other: Timestamp) -> Double {
        let seconds = Double(secondsSinceEpoch - other.secondsSinceEpoch)
        let nanos = Double(Int64(nanoseconds) - Int64(other.nanoseconds)) / 1_000_000_000
        return (seconds + nanos) / 86_400
    }
}

/// The earliest of some optional instants.
func earliest(_ values: Timestamp?...) -> Timestamp? {
    var best: Timestamp?
    for case let value? in values where best.map({ value < $0 }) ?? true { best = value }
    return best
}

/// A stretch of time during which a condition held: from `start` until `end` (nil: still holds).
struct Episode: Sendable, Equatable {
    var start: Timestamp
    var end: Timestamp?
}

/// Turns a time-ordered list of (instant, condition holds after this instant) into the
/// episodes during which the condition held. Several points at one instant: the last wins.
/// Zero-length episodes are dropped.
func episodes(of points: [(Timestamp, Bool)]) -> [Episode] {
    var out: [Episode] = []
    var current: Timestamp?
    var i = 0
    while i < points.count {
        let time = points[i].0
        var state = points[i].1
        while i + 1 < points.count, points[i + 1].0 == time {
            i += 1
            state = points[i].1
        }
        if state, current == nil {
            current = time
        } else if !state, let start = current {
            if start < time { out.append(Episode(start: start, end: time)) }
            current = nil
        }
        i += 1
    }
    if let start = current { out.append(Episode(start: start, end: nil)) }
    return out
}

/// Rounds half to even and converts to an integer number of minor units, clamping
/// non-finite or out-of-range values (0 for NaN).
func minorUnits(_ value: Double) -> Int {
    guard value.isFinite else { return value.isNaN ? 0 : (value > 0 ? Int.max : Int.min) }
    let rounded = value.rounded(.toNearestOrEven)
    if rounded >= 9.2e18 { return Int.max }
    if rounded <= -9.2e18 { return Int.min }
    return Int(rounded)
}
