import Foundation
import Hummingbird

/// JSON and problem+json responses.
public enum Responses {
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// A JSON response of `value` (keys sorted); a 500 problem if it cannot be encoded.
    public static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok,
                                          contentType: String = MediaTypes.json) -> Response {
        let bytes: Data
        do {
            bytes = try encoder.encode(value)
        } catch {
            return problem(ProblemDetails(slug: "internal", title: "Internal error", status: 500,
                                          detail: "the response could not be encoded"))
        }
        return Response(status: status, headers: [.contentType: contentType],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// A JSON response whose body is already encoded.
    public static func json(bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: MediaTypes.json],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// The JSON of a problem document (a bare `{"status":…}` should encoding ever fail).
    public static func problemBody(_ problem: ProblemDetails) -> [UInt8] {
        // Encoding a ProblemDetails (strings and integers) cannot fail; the fallback keeps the status.
        (try? Array(encoder.encode(problem))) ?? Array("{\"status\":\(problem.statusCode)}".utf8)
    }

    /// A problem+json response with the problem's status (and `Retry-After` when it has one).
    public static func problem(_ problem: ProblemDetails) -> Response {
        let bytes = problemBody(problem)
        var headers: HTTPFields = [.contentType: MediaTypes.problem]
        if let seconds = problem.retryAfterSeconds {
            headers[.retryAfter] = String(seconds)
        }
        return Response(status: problem.status, headers: headers,
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
