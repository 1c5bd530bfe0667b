import Hummingbird

/// An error that answers with its problem document (a wrapper for code that throws a
/// ``ProblemDetails`` built elsewhere; ``ProblemDetails`` can also be thrown directly).
public struct ProblemError: Error, Sendable, HTTPResponseError {
    /// The problem to answer with.
    public let problem: ProblemDetails

    /// Creates an error answering with `problem`.
    public init(_ problem: ProblemDetails) {
        self.problem = problem
    }

    /// The problem's HTTP status.
    public var status: HTTPResponse.Status { problem.status }

    /// The problem+json answer.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Responses.problem(problem)
    }
}
