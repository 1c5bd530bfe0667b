import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A small HTTP client for health checks, queries and test requests against Accord's services.
public enum HTTPProbe {
    /// One HTTP answer.
    public struct Response: Sendable {
        /// Status code.
        public let status: Int
        /// Content-Type header.
        public let contentType: String
        /// Body bytes.
        public let body: Data
        /// The body as UTF-8 text.
        public var text: String { String(decoding: body, as: UTF8.self) }

        /// The body parsed as JSON.
        public func json() throws -> Any { try JSONSerialization.jsonObject(with: body) }
    }

    private static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 60
        return URLSession(configuration: configuration)
    }()

    /// GETs `url`.
    public static func get(_ url: String) async throws -> Response {
        try await send(URLRequest(url: try makeURL(url)))
    }

    /// POSTs `body` to `url`.
    public static func post(_ url: String, body: Data, contentType: String = "application/json") async throws -> Response {
        var request = URLRequest(url: try makeURL(url))
        request.httpMethod = "POST"
        request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        request.httpBody = body
        return try await send(request)
    }

    /// Polls `url` until it answers 200 or `timeout` passes; `stillAlive` can abort early.
    public static func waitUntilOK(_ url: String, timeout: Duration = .seconds(60),
                                   stillAlive: () -> Bool = { true }) async throws {
        let deadline = ContinuousClock.now + timeout
        var last = "no answer"
        while ContinuousClock.now < deadline {
            guard stillAlive() else { throw ChildProcessError("gave up waiting for \(url): the process exited") }
            if let response = try? await get(url) {
                if response.status == 200 { return }
                last = "\(response.status) \(response.text)"
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw ChildProcessError("\(url) not ready within \(timeout): \(last)")
    }

    private static func makeURL(_ text: String) throws -> URL {
        guard let url = URL(string: text) else { throw ChildProcessError("not a URL: \(text)") }
        return url
    }

    private static func send(_ request: URLRequest) async throws -> Response {
        let (data, response) = try await session.data(for: request)
        let http = response as? HTTPURLResponse
        return Response(status: http?.statusCode ?? 0,
                        contentType: http?.value(forHTTPHeaderField: "Content-Type") ?? "", body: data)
    }
}
