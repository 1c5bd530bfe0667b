import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// One HTTP request from Accord's own clients (`accord publish`, the projector's chain-range
/// backfill, health probes) over AsyncHTTPClient, which stays well behaved when a request is
/// cancelled or its connection is cut, where Foundation's URLSession on Linux can crash.
public enum HTTPCall {
    /// The client every call shares: one connection pool per host, idle connections closed
    /// before the servers' own 30 s idle timeout closes them, and a refused connection reported
    /// at once (callers retry as they see fit) instead of retried until the deadline.
    private static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(20))
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout = .init(connect: .seconds(5))
        configuration.decompression = .disabled
        return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }()

    /// Sends `method` to `url` with `headers` and `body`, and reads an answer of up to
    /// `maxBodyBytes`, all within `timeout`.
    public static func send(_ method: String, _ url: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
                            timeout: Duration = .seconds(60),
                            maxBodyBytes: Int = 256 << 20) async throws(HTTPCallError) -> HTTPReply {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        do {
            let response = try await client.execute(request, deadline: deadline)
            let bytes = try await response.body.collect(upTo: maxBodyBytes)
            return HTTPReply(status: Int(response.status.code),
                              headers: response.headers.map { ($0.name, $0.value) },
                              body: Data(bytes.readableBytesView))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw HTTPCallError(kind: .timedOut, "\(method) \(url) did not complete within \(timeout)")
        } catch {
            if Task.isCancelled { throw HTTPCallError(kind: .cancelled, "\(method) \(url) was cancelled") }
            let kind: HTTPCallError.Kind = HTTPCallError.isRefusal(error) ? .connectionRefused : .failed
            throw HTTPCallError(kind: kind, "\(method) \(url): \(error)")
        }
    }

    /// GETs `url`.
    public static func get(_ url: String, headers: [(String, String)] = [],
                           timeout: Duration = .seconds(60)) async throws(HTTPCallError) -> HTTPReply {
        try await send("GET", url, headers: headers, timeout: timeout)
    }
}

/// An HTTP reply, read in full.
public struct HTTPReply: Sendable {
    /// Status code.
    public let status: Int
    /// Header fields in the order received.
    public let headers: [(String, String)]
    /// Body bytes.
    public let body: Data

    /// Creates an answer.
    public init(status: Int, headers: [(String, String)], body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
    }

    /// The body as UTF-8 text.
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Why an HTTP call got no answer.
public struct HTTPCallError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure.
    public enum Kind: Sendable, Equatable {
        /// Nothing listens at the address: the server is not running (or restarting).
        case connectionRefused
        /// No complete answer within the call's timeout.
        case timedOut
        /// The calling task was cancelled.
        case cancelled
        /// Any other failure: a connection cut, a malformed answer, an answer too large.
        case failed
    }

    /// What kind of failure.
    public let kind: Kind
    /// What was tried and what went wrong.
    public let message: String

    /// Creates an error.
    public init(kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// Whether `error` is a refused TCP connection, as NIO reports it.
    static func isRefusal(_ error: any Error) -> Bool {
        if let io = error as? IOError { return io.errnoCode == ECONNREFUSED }
        if let connection = error as? NIOConnectionError {
            return !connection.connectionErrors.isEmpty
                && connection.connectionErrors.allSatisfy { ($0.error as? IOError)?.errnoCode == ECONNREFUSED }
        }
        return false
    }
}
