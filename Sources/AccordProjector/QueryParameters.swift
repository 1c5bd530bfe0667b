import AccordEvents
import AccordProjection
import Foundation

/// A query parameter that could not be used, with what was wrong.
public struct InvalidQueryParameter: Error, Sendable, CustomStringConvertible {
    /// The parameter's name.
    public let name: String
    /// What was wrong with it.
    public let message: String

    public var description: String { "\(name): \(message)" }
}

/// The time parameters every query takes: `asOf` (the instant the view is about; default
/// now) and `knownAt` (only events recorded by then; default: everything recorded so far).
public struct ViewTime: Sendable, Equatable {
    /// The instant the view describes.
    public var asOf: Timestamp
    /// Only events recorded at or before this instant count, if set.
    public var knownAt: Timestamp?

    /// Parses `asOf`/`knownAt` from query parameters, defaulting `asOf` to `now`.
    public init(asOf: String?, knownAt: String?, now: Timestamp) throws(InvalidQueryParameter) {
        self.asOf = try Self.instant("asOf", asOf) ?? now
        self.knownAt = try Self.instant("knownAt", knownAt)
    }

    private static func instant(_ name: String, _ text: String?) throws(InvalidQueryParameter) -> Timestamp? {
        guard let text, !text.isEmpty else { return nil }
        guard let instant = Timestamp(rfc3339: text) else {
            throw InvalidQueryParameter(name: name, message: "expected an RFC 3339 instant such as 2025-06-01T00:00:00Z, got '\(text)'")
        }
        return instant
    }

    /// The instant as the view's questions take it.
    public var instant: ViewInstant { ViewInstant(asOf: asOf, knownAt: knownAt) }

    /// Which of the two auditor's questions an answer is about, said in every answer.
    public var perspective: String {
        knownAt == nil
            ? "what happened by asOf, as known now (late-recorded events included)"
            : "what the view showed: only events recorded by knownAt"
    }
}

/// Pagination of list answers: `limit` (1–1000, default 100) and an opaque `cursor`.
public struct PageRequest: Sendable, Equatable {
    /// Largest number of items in one page.
    public var limit: Int
    /// Where the page starts (a cursor from an earlier page).
    public var cursor: String?

    /// Parses `limit` and `cursor`.
    public init(limit: String?, cursor: String?) throws(InvalidQueryParameter) {
        if let limit {
            guard let value = Int(limit), (1...1000).contains(value) else {
                throw InvalidQueryParameter(name: "limit", message: "expected an integer from 1 to 1000, got '\(limit)'")
            }
            self.limit = value
        } else {
            self.limit = 100
        }
        if let cursor, !cursor.isEmpty {
            guard cursor.utf8.count <= 2048, unbase64(cursor) != nil else {
                throw InvalidQueryParameter(name: "cursor", message: "not a cursor this API returned")
            }
            self.cursor = cursor
        }
    }

    /// The page to ask the view for.
    public var spec: PageSpec { PageSpec(limit: limit, cursor: cursor) }
}
