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
/// nothing. When the bad request follows one still being answered (pipelining), the refusal
/// follows that answer. A parser error inside a request whose body is still being read is left
/// to Hummingbird, which fails that request and closes the connection.
final class ParserErrorResponder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// A request head has been read and its response has not ended.
    private var requestOpen = false
    /// The open request has been read to its end.
    private var requestRead = false
    /// A parser error that came while the previous request was still being answered.
    private var deferred: HTTPParserError?
    /// The refusal has been written; later errors and reads are dropped.
    private var refused = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused, deferred == nil else { return }
        switch unwrapInboundIn(data) {
        case .head:
            requestOpen = true
            requestRead = false
        case .end:
            requestRead = true
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var ended = false
        if case .end = unwrapOutboundIn(data) {
            requestOpen = false
            ended = true
        }
        context.write(data, promise: promise)
        if ended, let error = deferred {
            deferred = nil
            refuse(context: context, error: error)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !refused, deferred == nil else { return }
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        if !requestOpen {
            refuse(context: context, error: parserError)
        } else if requestRead {
            deferred = parserError
        } else {
            context.fireErrorCaught(error)
        }
    }

    private func refuse(context: ChannelHandlerContext, error: HTTPParserError) {
        refused = true
        let problem = Self.problem(for: error)
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
