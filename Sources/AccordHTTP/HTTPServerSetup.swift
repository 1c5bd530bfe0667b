import Hummingbird
import HummingbirdCore
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// How Accord's HTTP servers take connections: HTTP/1.1 with an idle timeout, and requests the
/// HTTP parser itself refuses answered with problem+json like every other refusal.
public enum HTTPServerSetup {
    /// Seconds a connection may stay silent (between requests, or while a request's head or
    /// body is still arriving) before the server closes it.
    public static let defaultIdleTimeoutSeconds = 30

    /// The server builder to pass to `Application(server:)`.
    public static func http1(idleTimeoutSeconds: Int = defaultIdleTimeoutSeconds) -> HTTPServerBuilder {
        .http1(configuration: .init(additionalChannelHandlers: [ParserErrorResponder()],
                                    idleTimeout: .seconds(Int64(max(1, idleTimeoutSeconds)))))
    }
}

/// Answers a request the HTTP parser could not read (an unknown method, a negative
/// Content-Length, a request line or headers over the limit) with a problem+json response, then
/// closes the connection. Hummingbird answers these with an empty `400`, which tells a client
/// nothing. A parser error in the middle of a request whose answer is already under way is left
/// to Hummingbird, which closes the connection.
final class ParserErrorResponder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// A request head has been read and its response has not ended.
    private var requestOpen = false
    /// The refusal has been written; later errors and reads are dropped.
    private var refused = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        if case .head = unwrapInboundIn(data) { requestOpen = true }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { requestOpen = false }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !refused else { return }
        guard let parserError = error as? HTTPParserError, !requestOpen else {
            context.fireErrorCaught(error)
            return
        }
        refused = true
        let problem = Self.problem(for: parserError)
        let body = Responses.problemBody(problem)
        var head = HTTPResponse(status: problem.status)
        head.headerFields[.contentType] = MediaTypes.problem
        head.headerFields[.contentLength] = String(body.count)
        head.headerFields[.connection] = "close"
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: body))), promise: nil)
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        let channel = context.channel
        written.futureResult.whenComplete { _ in channel.close(promise: nil) }
    }

    /// The problem document for a parser error: `431` for a request line or headers over the
    /// limit, `400` otherwise, with the parser's own words as the detail.
    static func problem(for error: HTTPParserError) -> ProblemDetails {
        if case .headerOverflow = error {
            return ProblemDetails(slug: "request-header-too-large", title: "Request Header Fields Too Large", status: 431,
                                  detail: "the request line and headers are larger than the server reads (80 KB); send a shorter URL or fewer headers")
        }
        return ProblemDetails(slug: "malformed-request", title: "Malformed HTTP request", status: 400,
                              detail: "the request is not valid HTTP/1.1: \(error.debugDescription)")
    }
}
