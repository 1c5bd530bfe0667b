import AccordEvents

/// An obligation as an agency's worklist shows it at an instant: started by then, not resolved by
/// then, and charged to that agency then. It is the flag record of the obligation
/// (`docs/accountability-rules.md`), so a worklist and the flags cannot disagree: an item is
/// overdue exactly when the view shows its flag open.
public struct PendingObligation: Sendable, Hashable {
    /// The obligation's flag record (its `since` is when the obligation falls or fell due).
    public var record: FlagRecord
    /// The agency accountable at the instant (source URN).
    public var accountable: String
    /// Whether the service level is already breached at the instant: the flag exists and is open.
    public var overdue: Bool

    /// When the obligation falls or fell due (the flag's `since`).
    public var dueBy: Timestamp { record.since }
    /// The event that started the obligation (the referral, the provider's report, the failure).
    public var startedBy: FlagEventRef? { record.causes.first }
}

extension FlagRecord {
    /// The obligation as a worklist at `asOf` shows it: nil when it had not started by `asOf`
    /// (its first cause is later) or was resolved at or before `asOf`.
    public func pending(asOf: Timestamp) -> PendingObligation? {
        guard let start = causes.first, start.at <= asOf else { return nil }
        if let resolvedAt, resolvedAt <= asOf { return nil }
        return PendingObligation(record: self, accountable: period(at: asOf).accountable, overdue: exists(at: asOf))
    }
}

/// Worklists derived from the projection's flag records: the reactions of the agency services use
/// these, so what a service asks its agency to do is what the view holds it accountable for.
public enum Worklist {
    /// The obligations of `rule` pending at `asOf` and charged to `agency` (a source URN) then,
    /// earliest started first (then by flag id).
    public static func pending(_ records: some Sequence<FlagRecord>, rule: FlagRule, agency: String,
                               asOf: Timestamp) -> [PendingObligation] {
        var out: [PendingObligation] = []
        for record in records where record.rule == rule {
            guard let p = record.pending(asOf: asOf), p.accountable == agency else { continue }
            out.append(p)
        }
        out.sort { a, b in
            let x = a.startedBy?.at ?? a.dueBy
            let y = b.startedBy?.at ?? b.dueBy
            return x != y ? x < y : a.record.id < b.record.id
        }
        return out
    }
}
