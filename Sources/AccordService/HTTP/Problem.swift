import AccordKafka
import Foundation
import Hummingbird

/// An RFC 9457 problem document (`application/problem+json`), with Accord's extension members.
public struct Problem: Sendable, Codable, Hashable {
    /// A URI identifying the problem type.
    public var type: String
    /// A short summary of the problem type.
    public var title: String
    /// The HTTP status code.
    public var status: Int
    /// What went wrong this time.
    public var detail: String
    /// Per-item errors (validation), each with index, pointer, field and message.
    public var errors: [IntakeItemError]?
    /// Events the broker acknowledged before a failure (they are published).
    public var acknowledged: [Acknowledgement]?
    /// Events that may or may not have been published (retry them with the same ids).
    public var unacknowledged: [UnacknowledgedEvent]?
    /// For malformed JSON: 1-based line of the problem.
    public var line: Int?
    /// For malformed JSON: 1-based column (bytes) of the problem.
    public var column: Int?

    /// Base URI of Accord's problem types.
    public static let typeBase = "https://accord.example/problems/"

    /// Creates a problem; `slug` completes the type URI.
    public init(slug: String, title: String, status: Int, detail: String, errors: [IntakeItemError]? = nil) {
        self.type = Problem.typeBase + slug
        self.title = title
        self.status = status
        self.detail = detail
        self.errors = errors
    }
}

/// An error that answers with its problem document.
public struct ProblemError: Error, Sendable {
    /// The problem to answer with.
    public let problem: Problem

    /// Creates an error answering with `problem`.
    public init(_ problem: Problem) {
        self.problem = problem
    }
}

/// JSON and problem responses.
public enum Responses {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// A JSON response.
    public static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok, contentType: String = MediaTypes.json) -> Response {
        let bytes: Data
        do {
            bytes = try encoder.encode(value)
        } catch {
            return problem(Problem(slug: "internal", title: "Internal error", status: 500,
                                   detail: "the response could not be encoded"))
        }
        return Response(status: status, headers: [.contentType: contentType],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// A problem+json response with the problem's status.
    public static func problem(_ problem: Problem) -> Response {
        let bytes = (try? encoder.encode(problem)) ?? Data("{\"status\":\(problem.status)}".utf8)
        return Response(status: HTTPResponse.Status(code: problem.status), headers: [.contentType: MediaTypes.problem],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
