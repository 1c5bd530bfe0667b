import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One HTTP/1.1 answer read by ``HTTPConnection``.
public struct HTTPAnswer: Sendable {
    /// The status code.
    public let status: Int
    /// The body bytes (de-chunked).
    public let body: [UInt8]
    /// The `Content-Type` header, lower case ("" when absent).
    public let contentType: String

    /// The body as UTF-8 text.
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The body parsed as a JSON object, if it is one.
    public func jsonObject() -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }

    /// Whether the body contains `needle`.
    public func bodyContains(_ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, body.count >= needle.count else { return needle.isEmpty }
        let first = needle[0]
        var index = 0
        let last = body.count - needle.count
        while index <= last {
            if body[index] == first, body[index..<(index + needle.count)].elementsEqual(needle) { return true }
            index += 1
        }
        return false
    }
}

/// The bytes of HTTP/1.1 requests to 127.0.0.1.
public enum HTTPRequestBytes {
    /// `GET path`.
    public static func get(_ path: String, port: Int) -> [UInt8] {
        Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAccept: application/json\r\n\r\n".utf8)
    }

    /// `POST path` with a body.
    public static func post(_ path: String, port: Int, contentType: String = "application/json", body: [UInt8]) -> [UInt8] {
        Array("POST \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
    }
}

/// A blocking HTTP/1.1 client connection with keep-alive to one port on 127.0.0.1, for load
/// generation and polling from a dedicated thread. Not thread-safe: one thread per connection.
public final class HTTPConnection {
    private let port: Int
    private let timeoutSeconds: Int
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []
    private var start = 0
    private var scratch = [UInt8](repeating: 0, count: 64 * 1024)

    /// Creates a connection (connected on first use) to `127.0.0.1:port`.
    public init(port: Int, timeoutSeconds: Int = 60) {
        self.port = port
        self.timeoutSeconds = timeoutSeconds
    }

    deinit { close() }

    /// Connects now (otherwise the first request connects).
    public func connect() throws {
        close()
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { throw HTTPConnectionError("socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        _ = setsockopt(socketFD, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        _ = setsockopt(socketFD, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(socketFD, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let message = String(cString: strerror(errno))
            Glibc.close(socketFD)
            throw HTTPConnectionError("connect to 127.0.0.1:\(port): \(message)")
        }
        fd = socketFD
        buffer.removeAll(keepingCapacity: true)
        start = 0
    }

    /// Closes the connection.
    public func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// Sends `request` (complete HTTP/1.1 bytes) and reads the answer. A connection the server
    /// closed while idle is reopened once.
    public func send(_ request: [UInt8]) throws -> HTTPAnswer {
        let fresh = fd < 0
        if fresh { try connect() }
        do {
            try write(request)
            return try readResponse()
        } catch let error as ConnectionClosed where !fresh && error.beforeAnswer {
            try connect()
            try write(request)
            return try readResponse()
        }
    }

    /// Sends bytes without reading an answer: a partial request, say (connecting first if needed).
    public func sendOnly(_ bytes: [UInt8]) throws {
        if fd < 0 { try connect() }
        try write(bytes)
    }

    /// Reads whatever the server still sends until it closes the connection, and returns it;
    /// throws if the server neither sends nor closes within the timeout.
    public func readUntilClosed() throws -> [UInt8] {
        guard fd >= 0 else { return [] }
        while try fill() {}
        let rest = Array(buffer[start...])
        start = buffer.count
        close()
        return rest
    }

    private struct ConnectionClosed: Error {
        let beforeAnswer: Bool
    }

    private func write(_ bytes: [UInt8]) throws {
        var sent = 0
        try bytes.withUnsafeBytes { raw in
            while sent < raw.count {
                guard let base = raw.baseAddress else { return }
                let n = Glibc.send(fd, base + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
                if n < 0 {
                    if errno == EINTR { continue }
                    if errno == EPIPE || errno == ECONNRESET { throw ConnectionClosed(beforeAnswer: true) }
                    throw HTTPConnectionError("send: \(String(cString: strerror(errno)))")
                }
                sent += n
            }
        }
    }

    /// Reads more bytes into the buffer; false at end of stream.
    private func fill() throws -> Bool {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        while true {
            let n = scratch.withUnsafeMutableBytes { raw in recv(fd, raw.baseAddress, raw.count, 0) }
            if n > 0 {
                buffer.append(contentsOf: scratch[0..<n])
                return true
            }
            if n == 0 { return false }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { throw HTTPConnectionError("no answer within \(timeoutSeconds) s") }
            if errno == ECONNRESET { return false }
            throw HTTPConnectionError("recv: \(String(cString: strerror(errno)))")
        }
    }

    private func line() throws -> [UInt8]? {
        while true {
            if let end = buffer[start...].firstIndex(of: 0x0A) {
                var line = Array(buffer[start..<end])
                if line.last == 0x0D { line.removeLast() }
                start = end + 1
                return line
            }
            if try !fill() { return nil }
        }
    }

    private func bytes(_ count: Int) throws -> [UInt8] {
        while buffer.count - start < count {
            if try !fill() { throw ConnectionClosed(beforeAnswer: false) }
        }
        let out = Array(buffer[start..<(start + count)])
        start += count
        return out
    }

    private func readResponse() throws -> HTTPAnswer {
        guard let statusLine = try line() else { throw ConnectionClosed(beforeAnswer: true) }
        let parts = String(decoding: statusLine, as: UTF8.self).split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw HTTPConnectionError("not an HTTP status line: \(String(decoding: statusLine.prefix(80), as: UTF8.self))")
        }
        var contentLength: Int?
        var contentType = ""
        var chunked = false
        var closeAfter = parts[0] == "HTTP/1.0"
        while true {
            guard let header = try line() else { throw ConnectionClosed(beforeAnswer: false) }
            if header.isEmpty { break }
            let text = String(decoding: header, as: UTF8.self)
            guard let colon = text.firstIndex(of: ":") else { continue }
            let name = text[..<colon].lowercased()
            let value = text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces).lowercased()
            switch name {
            case "content-length": contentLength = Int(value)
            case "content-type": contentType = value
            case "transfer-encoding": chunked = value.contains("chunked")
            case "connection": if value.contains("close") { closeAfter = true }
            default: break
            }
        }
        var body: [UInt8] = []
        if chunked {
            while true {
                guard let sizeLine = try line() else { throw ConnectionClosed(beforeAnswer: false) }
                let hex = String(decoding: sizeLine, as: UTF8.self).split(separator: ";").first.map(String.init) ?? ""
                guard let size = Int(hex.trimmingCharacters(in: .whitespaces), radix: 16) else {
                    throw HTTPConnectionError("bad chunk size line")
                }
                if size == 0 {
                    while let trailer = try line(), !trailer.isEmpty {}
                    break
                }
                body += try bytes(size)
                _ = try line()
            }
        } else if let contentLength {
            body = try bytes(contentLength)
        } else if status != 204 && status != 304 {
            while try fill() {}
            body = Array(buffer[start...])
            start = buffer.count
            closeAfter = true
        }
        if closeAfter { close() }
        return HTTPAnswer(status: status, body: body, contentType: contentType)
    }
}

/// Why an ``HTTPConnection`` could not connect, send or read an answer.
public struct HTTPConnectionError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
