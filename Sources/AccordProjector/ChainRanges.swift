import AccordEvents
import AccordHTTPClient
import AccordIntegrity
import Foundation

/// One page of a chain as its source's service keeps it (`GET /v1/chains/{topic}/{partition}/events`).
public struct ChainRangePage: Sendable {
    /// One record exactly as it was produced.
    public struct Record: Sendable {
        /// Chain position of an event; the count a checkpoint covers.
        public var position: Int64
        /// Its Kafka offset, nil while the service has no acknowledgement for it.
        public var offset: Int64?
        /// Its Kafka timestamp (ms since the epoch).
        public var timestampMilliseconds: Int64?
        /// Key, headers and value.
        public var message: BinaryMessage

        /// A record of a page.
        public init(position: Int64, offset: Int64?, timestampMilliseconds: Int64?, message: BinaryMessage) {
            self.position = position
            self.offset = offset
            self.timestampMilliseconds = timestampMilliseconds
            self.message = message
        }
    }

    /// The events from the position asked for, in chain order.
    public var events: [Record]
    /// The chain's newest checkpoint record, if any.
    public var checkpoint: Record?
    /// The position to ask for next; nil when the page reaches the chain's end.
    public var next: Int64?

    /// A page.
    public init(events: [Record], checkpoint: Record?, next: Int64?) {
        self.events = events
        self.checkpoint = checkpoint
        self.next = next
    }
}

/// Why a chain range could not be fetched.
public struct ChainRangeError: Error, Sendable, CustomStringConvertible {
    /// Whether asking again later can help (the service is down or busy) or not (no endpoint is
    /// configured for the source, or the range is past its retention).
    public var retryable: Bool
    /// What went wrong, naming the source and what it answered.
    public var description: String

    /// An error.
    public init(retryable: Bool, _ description: String) {
        self.retryable = retryable
        self.description = description
    }
}

/// Where the projector fetches the missing records of a chain: the service of the chain's
/// source. A protocol so tests can stand in for the services.
public protocol ChainRangeSource: Sendable {
    /// The sources it has an endpoint for.
    var sources: [String] { get }
    /// Whether `source` has an endpoint to fetch its chains from.
    func serves(_ source: String) -> Bool
    /// Up to `limit` records of `chain` from `position` on.
    func page(of chain: ChainID, from position: Int64, limit: Int) async throws(ChainRangeError) -> ChainRangePage
}

/// Chain ranges fetched over HTTP from each source's service, at its base URL (`--chain-endpoint`).
public struct HTTPChainRanges: ChainRangeSource {
    /// Base URL of each source's service, by source URN.
    public let endpoints: [String: URL]
    private let timeout: Duration

    /// Fetches from `endpoints`, each request given `timeoutSeconds`.
    public init(endpoints: [String: URL], timeoutSeconds: Double = 10) {
        self.endpoints = endpoints
        timeout = .milliseconds(Int64(max(0.1, timeoutSeconds) * 1_000))
    }

    public var sources: [String] { endpoints.keys.sorted() }

    public func serves(_ source: String) -> Bool { endpoints[source] != nil }

    public func page(of chain: ChainID, from position: Int64, limit: Int) async throws(ChainRangeError) -> ChainRangePage {
        guard let base = endpoints[chain.source] else {
            throw ChainRangeError(retryable: false, "no --chain-endpoint is configured for \(chain.source)")
        }
        let path = "v1/chains/\(chain.topic)/\(chain.partition)/events"
        guard var components = URLComponents(url: base.appendingPathComponent(path), resolvingAgainstBaseURL: false) else {
            throw ChainRangeError(retryable: false, "\(base) is not a usable base URL for \(chain.source)")
        }
        components.queryItems = [URLQueryItem(name: "from", value: "\(position)"), URLQueryItem(name: "limit", value: "\(limit)")]
        guard let url = components.url else {
            throw ChainRangeError(retryable: false, "\(base) is not a usable base URL for \(chain.source)")
        }
        let data: Data
        let status: Int
        do {
            let answer = try await HTTPCall.get(url.absoluteString, headers: [("Accept", "application/json")], timeout: timeout)
            data = answer.body
            status = answer.status
        } catch {
            throw ChainRangeError(retryable: true, "\(url.absoluteString) cannot be reached: \(error)")
        }
        guard status == 200 else {
            let detail = String(decoding: data.prefix(300), as: UTF8.self)
            // 410: past the source's retention; 404: the source does not know the chain. Neither heals by waiting.
            throw ChainRangeError(retryable: status != 410 && status != 404 && status != 400,
                                  "\(url.absoluteString) answered \(status): \(detail)")
        }
        do {
            return try Self.decode(data)
        } catch {
            throw ChainRangeError(retryable: true, "\(url.absoluteString) answered a chain range that is not readable: \(error)")
        }
    }

    struct Answer: Decodable {
        struct Header: Decodable {
            var name: String
            var value: String
        }
        struct Record: Decodable {
            var position: Int64
            var offset: Int64?
            var timestamp: Int64?
            var key: String?
            var headers: [Header]
            var value: String
        }
        var next: Int64?
        var events: [Record]
        var checkpoint: Record?
    }

    struct Unreadable: Error, CustomStringConvertible {
        var description: String
    }

    /// Decodes an answer of `GET /v1/chains/…` (base64 keys, header values and values).
    static func decode(_ data: Data) throws -> ChainRangePage {
        let answer = try JSONDecoder().decode(Answer.self, from: data)
        func bytes(_ text: String, _ what: String, _ position: Int64) throws -> [UInt8] {
            guard let decoded = Data(base64Encoded: text) else {
                throw Unreadable(description: "the \(what) of position \(position) is not base64")
            }
            return Array(decoded)
        }
        func record(_ r: Answer.Record) throws -> ChainRangePage.Record {
            let headers = try r.headers.map { MessageHeader(name: $0.name, value: try bytes($0.value, "header \($0.name)", r.position)) }
            let key = try r.key.map { try bytes($0, "key", r.position) }
            return ChainRangePage.Record(position: r.position, offset: r.offset, timestampMilliseconds: r.timestamp,
                                         message: BinaryMessage(key: key, headers: headers, value: try bytes(r.value, "value", r.position)))
        }
        return ChainRangePage(events: try answer.events.map(record), checkpoint: try answer.checkpoint.map(record), next: answer.next)
    }
}
