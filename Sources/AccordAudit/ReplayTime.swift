import AccordEvents

/// The instant a replay is about and which of the auditor's two questions it answers.
///
/// - `knownAt == nil` — **as known now**: everything that happened by `asOf`, whenever it was
///   recorded (late entries included).
/// - `knownAt == asOf` — **as shown at `asOf`**: only events recorded by `asOf`, i.e. what the
///   view actually showed then.
/// - any other `knownAt` — what happened by `asOf`, as known at `knownAt`.
///
/// The same pair is the query API's `asOf` / `knownAt` parameters; `perspective` is the same
/// sentence the API puts in every answer.
public struct ReplayTime: Sendable, Equatable, Codable {
    /// The instant the view describes.
    public var asOf: Timestamp
    /// Only events recorded at or before this instant count, if set.
    public var knownAt: Timestamp?

    /// Creates a replay time.
    public init(asOf: Timestamp, knownAt: Timestamp? = nil) {
        self.asOf = asOf
        self.knownAt = knownAt
    }

    /// What had happened by `instant`, as known now.
    public static func asKnownNow(_ instant: Timestamp) -> ReplayTime { ReplayTime(asOf: instant, knownAt: nil) }

    /// What the view showed at `instant`: only events recorded by then.
    public static func asShown(at instant: Timestamp) -> ReplayTime { ReplayTime(asOf: instant, knownAt: instant) }

    /// The query API's perspective sentence for this time (identical to `ViewTime.perspective`).
    public var perspective: String {
        knownAt == nil
            ? "what happened by asOf, as known now (late-recorded events included)"
            : "what the view showed: only events recorded by knownAt"
    }

    /// A short stable name: `as-known-now`, `as-shown` (knownAt = asOf) or `as-known-at`.
    public var perspectiveName: String {
        guard let knownAt else { return "as-known-now" }
        return knownAt == asOf ? "as-shown" : "as-known-at"
    }

    /// A heading for reports, e.g. "As shown at 2025-03-20T00:00:00Z".
    public var headline: String {
        guard let knownAt else { return "What had happened by \(asOf), as known now" }
        return knownAt == asOf
            ? "What the view showed at \(asOf) (only events recorded by then)"
            : "What had happened by \(asOf), as known at \(knownAt)"
    }

    /// The complementary perspective on the same instant: as shown at `asOf` for an
    /// as-known-now time, as known now otherwise.
    public var complement: ReplayTime {
        knownAt == nil ? .asShown(at: asOf) : .asKnownNow(asOf)
    }

    /// Whether an event with this time, recorded then, is part of the view: it happened by
    /// `asOf` and, when `knownAt` is set, was recorded by then.
    func includes(time: Timestamp, recordedAt: Timestamp) -> Bool {
        time <= asOf && (knownAt.map { recordedAt <= $0 } ?? true)
    }
}
