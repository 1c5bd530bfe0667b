import Hummingbird
import Logging

/// Turns every error a route throws into `application/problem+json` and counts responses by status.
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServiceMetrics?

    /// Creates the middleware; responses are counted in `metrics` when given.
    public init(metrics: ServiceMetrics? = nil) {
        self.metrics = metrics
    }

    /// Answers errors thrown by later handlers as problem documents.
    public func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        let response: Response
        do {
            response = try await next(request, context)
        } catch let error as ProblemError {
            response = Responses.problem(error.problem)
        } catch let error as HTTPError {
            response = Responses.problem(Self.problem(status: error.status, detail: error.body, request: request))
        } catch let error as any HTTPResponseError {
            response = Responses.problem(Self.problem(status: error.status, detail: nil, request: request))
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            response = Responses.problem(Problem(slug: "internal", title: "Internal error", status: 500,
                                                 detail: "the request could not be processed"))
        }
        metrics?.httpResponse(status: response.status.code)
        return response
    }

    static func problem(status: HTTPResponse.Status, detail: String?, request: Request) -> Problem {
        let detail = detail ?? (status == .notFound ? "no resource at \(request.method) \(request.uri.path)" : status.reasonPhrase)
        let slug = status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "-")
        return Problem(slug: slug, title: status.reasonPhrase, status: status.code, detail: detail)
    }
}
