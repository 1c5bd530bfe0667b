import AccordEvents
import AccordHTTP
import Foundation
import Hummingbird

/// `GET /v1/chains/{topic}/{partition}/events?from=POSITION&limit=N`: the exact sealed records of
/// one of this service's chains from a position on, with the newest signed checkpoint, so a
/// projector can fill a gap and verify it against the chain (`schemas/integrity.md`).
struct ChainRangeHandler: Sendable {
    /// The largest `limit`.
    static let maxLimit = 1000
    /// The `limit` when none is given.
    static let defaultLimit = 100

    let outbox: Outbox
    let source: EventSource
    let topics: [String]

    /// One header, its value in base64.
    struct Header: Encodable {
        var name: String
        var value: String
    }

    /// One record exactly as produced.
    struct Record: Encodable {
        /// Chain position of an event; the count a checkpoint covers.
        var position: Int64
        /// The event's `ce_sequence`; a checkpoint's `lastSequence`.
        var sequence: Int64
        /// Kafka offset once acknowledged, else null.
        var offset: Int64?
        /// The record's Kafka timestamp, milliseconds since the epoch.
        var timestamp: Int64
        /// The record key, base64 (null for none).
        var key: String?
        /// The headers in produce order.
        var headers: [Header]
        /// The record value, base64.
        var value: String
    }

    /// The answer.
    struct Answer: Encodable {
        var source: String
        var topic: String
        var partition: Int32
        /// The first position asked for.
        var from: Int64
        /// Events returned.
        var count: Int
        /// The chain's length now.
        var chainLength: Int64
        /// The oldest position still kept (older ones are past the retention), null for an empty chain.
        var oldestRetained: Int64?
        /// The position to ask for next, null when the answer reaches the chain's end.
        var next: Int64?
        /// The events, in chain order.
        var events: [Record]
        /// The newest checkpoint of the chain in the outbox (it covers events up to its `position`), or null.
        var checkpoint: Record?
    }

    func handle(_ request: Request, context: some RequestContext) async throws -> Response {
        let topic = context.parameters.get("topic") ?? ""
        guard topics.contains(topic) else {
            throw Self.invalid(404, slug: "unknown-chain", field: "topic",
                               "\(source.urn) publishes on \(topics.joined(separator: ", ")), not on \"\(topic.prefix(120))\"")
        }
        let partitionText = context.parameters.get("partition") ?? ""
        guard let partition = Int32(partitionText), partition >= 0 else {
            throw Self.invalid(400, slug: "invalid-query-parameter", field: "partition",
                               "\"\(partitionText.prefix(20))\" is not a partition number (0 or more)")
        }
        if let count = outbox.partitions[topic], partition >= count {
            throw Self.invalid(404, slug: "unknown-chain", field: "partition",
                               "topic \(topic) has partitions 0 to \(count - 1), not \(partition)")
        }
        let from = try Self.integer(request, "from", default: 1, range: 1...Int64.max)
        let limit = Int(try Self.integer(request, "limit", default: Int64(Self.defaultLimit), range: 1...Int64(Self.maxLimit)))
        let range = try await outbox.range(topic: topic, partition: partition, from: from, limit: limit)
        if let oldest = range.oldestRetained, from < oldest {
            throw Self.invalid(410, slug: "past-retention", field: "from",
                               "positions before \(oldest) of \(topic)/\(partition) are past the outbox retention; ask from \(oldest) or restore them from an archive")
        }
        let events = range.events.map(Self.record)
        let last = range.events.last?.position
        let next: Int64? = last.flatMap { $0 < range.count ? $0 + 1 : nil }
        return Responses.json(Answer(source: source.urn, topic: topic, partition: partition, from: from,
                                     count: events.count, chainLength: range.count, oldestRetained: range.oldestRetained,
                                     next: next, events: events, checkpoint: range.checkpoint.map(Self.record)))
    }

    private static func record(_ stored: Outbox.ChainRecord) -> Record {
        Record(position: stored.position, sequence: stored.sequence, offset: stored.offset,
               timestamp: stored.timestampMilliseconds,
               key: stored.key.map { Data($0).base64EncodedString() },
               headers: stored.headers.map { Header(name: $0.name, value: Data($0.value).base64EncodedString()) },
               value: Data(stored.value).base64EncodedString())
    }

    private static func integer(_ request: Request, _ name: String, default fallback: Int64,
                                range: ClosedRange<Int64>) throws -> Int64 {
        guard let text = request.uri.queryParameters.get(name) else { return fallback }
        guard let value = Int64(text), range.contains(value) else {
            let bounds = range.upperBound == Int64.max ? "\(range.lowerBound) or more" : "\(range.lowerBound) to \(range.upperBound)"
            throw invalid(400, slug: "invalid-query-parameter", field: name,
                          "\"\(text.prefix(20))\" is not an integer \(bounds)")
        }
        return value
    }

    private static func invalid(_ status: Int, slug: String, field: String, _ message: String) -> ProblemDetails {
        let title = switch status {
        case 404: "Unknown chain"
        case 410: "Past retention"
        default: "Invalid query parameter"
        }
        return ProblemDetails(slug: slug, title: title, status: status, detail: "\(field): \(message)",
                              errors: [FieldError(index: 0, pointer: "", field: field, message: message, reason: slug)])
    }
}
