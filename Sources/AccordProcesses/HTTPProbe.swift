import AccordHTTPClient
import Foundation

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

        init(_ answer: HTTPReply) {
            status = answer.status
            contentType = answer.header("Content-Type") ?? ""
            body = answer.body
        }
    }

    /// GETs `url`.
    public static func get(_ url: String) async throws -> Response {
        Response(try await HTTPCall.get(url))
    }

    /// POSTs `body` to `url`.
    public static func post(_ url: String, body: Data, contentType: String = "application/json") async throws -> Response {
        Response(try await HTTPCall.send("POST", url, headers: [("Content-Type", contentType)], body: [UInt8](body)))
    }

    /// Polls `url` until it answers 200 or `timeout` passes; `stillAlive` can abort early.
    public static func waitUntilOK(_ url: String, timeout: Duration = .seconds(60),
                                   stillAlive: () -> Bool = { true }) async throws {
        let deadline = ContinuousClock.now + timeout
        var last = "no answer"
        while ContinuousClock.now < deadline {
            guard stillAlive() else { throw ChildProcessError("gave up waiting for \(url): the process exited") }
            do throws(HTTPCallError) {
                let response = try await HTTPCall.get(url, timeout: .seconds(10))
                if response.status == 200 { return }
                last = "\(response.status) \(response.text)"
            } catch {
                last = error.message
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw ChildProcessError("\(url) not ready within \(timeout): \(last)")
    }
}
