import Hummingbird
import Logging

/// Turns every error a route throws into `application/problem+json`, answers a request whose
/// method a known path does not take with `405` and `Allow` (from `routes`), and reports every
/// response's status to an optional observer (metrics).
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    private let onResponse: (@Sendable (Int) -> Void)?
    private let routes: RouteTable?

    /// Creates the middleware; `routes` are the server's declared paths and methods, `onResponse`
    /// is told every response's status code.
    public init(routes: RouteTable? = nil, onResponse: (@Sendable (Int) -> Void)? = nil) {
        self.routes = routes
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
            let allowed = error.status == .notFound && context.endpointPath == "NotFound"
                ? routes?.methods(for: request.uri.path) ?? [] : []
            if allowed.isEmpty {
                response = Responses.problem(Self.problem(status: error.status, detail: error.body, request: request))
            } else {
                let names = allowed.map(\.rawValue).joined(separator: ", ")
                var answer = Responses.problem(ProblemDetails(
                    slug: "method-not-allowed", title: "Method Not Allowed", status: 405,
                    detail: "\(request.uri.path) does not take \(request.method.rawValue); it takes \(names)"))
                answer.headers[.allow] = names
                response = answer
            }
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
