import Foundation
import Hummingbird

/// An RFC 9457 problem document (`application/problem+json`) with Accord's extension members.
///
/// Thrown from a route, it answers with itself (it is an `HTTPResponseError`), including a
/// `Retry-After` header when ``retryAfterSeconds`` is set.
public struct ProblemDetails: Error, Sendable, Codable, Hashable {
    /// A URI identifying the problem type.
    public var type: String
    /// A short summary of the problem type.
    public var title: String
    /// The HTTP status code.
    public var statusCode: Int
    /// What went wrong this time.
    public var detail: String
    /// Per-item errors (validation), each naming the item, the field and what is wrong.
    public var errors: [FieldError]?
    /// For malformed JSON: 1-based line of the problem.
    public var line: Int?
    /// For malformed JSON: 1-based column (bytes) of the problem.
    public var column: Int?
    /// Seconds after which a retry may succeed; sent as the `Retry-After` header and member.
    public var retryAfterSeconds: Int?

    /// Base URI of Accord's problem types.
    public static let typeBase = "https://accord.example/problems/"

    /// Creates a problem; `slug` completes the type URI.
    public init(slug: String, title: String, status: Int, detail: String, errors: [FieldError]? = nil,
                retryAfterSeconds: Int? = nil) {
        self.type = ProblemDetails.typeBase + slug
        self.title = title
        self.statusCode = status
        self.detail = detail
        self.errors = errors
        self.retryAfterSeconds = retryAfterSeconds
    }

    enum CodingKeys: String, CodingKey {
        case type, title, detail, errors, line, column
        case statusCode = "status"
        case retryAfterSeconds = "retryAfter"
    }
}

extension ProblemDetails: HTTPResponseError {
    /// The HTTP status of the answer.
    public var status: HTTPResponse.Status { HTTPResponse.Status(code: statusCode) }

    /// The problem+json answer.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Responses.problem(self)
    }
}
