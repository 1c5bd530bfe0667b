import Hummingbird
import Logging

/// Turns every error a route throws into `application/problem+json`, and reports every
/// response's status to an optional observer (metrics).
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    private let onResponse: (@Sendable (Int) -> Void)?

    /// Creates the middleware; `onResponse` is told every response's status code.
    public init(onResponse: (@Sendable (Int) -> Void)? = nil) {
        self.onResponse = onResponse
    }

    /// Answers errors thrown by later handlers as problem documents.
    public func handle(_ request: Request, context: Context,
                       next: (Request, Context) async throws -> Response) async throws -> Response {
        let response: Response
        do {
            response = try await next(request, context)
        } catch let problem as ProblemDetails {
            response = Responses.problem(problem)
        } catch let error as ProblemError {
            response = Responses.problem(error.problem)
        } catch let error as HTTPError {
            response = Responses.problem(Self.problem(status: error.status, detail: error.body, request: request))
        } catch let error as any HTTPResponseError {
            response = Responses.problem(Self.problem(status: error.status, detail: nil, request: request))
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            response = Responses.problem(ProblemDetails(slug: "internal", title: "Internal error", status: 500,
                                                        detail: "the request could not be processed"))
        }
        onResponse?(response.status.code)
        return response
    }

    static func problem(status: HTTPResponse.Status, detail: String?, request: Request) -> ProblemDetails {
        let detail = detail ?? (status == .notFound ? "no resource at \(request.method) \(request.uri.path)" : status.reasonPhrase)
        let slug = status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "-")
        return ProblemDetails(slug: slug, title: status.reasonPhrase, status: status.code, detail: detail)
    }
}
