import AccordEvents
import Foundation

/// A signed statement by a source: "my chain on this topic and partition holds `count` events,
/// the last with hash `head` and sequence `lastSequence`" (`schemas/integrity.md` §4).
///
/// A control record, not a catalogue event: produced to the chain's topic and partition, after
/// the last event it covers, with key = the source URN and header
/// `accord-record-kind: chain-checkpoint`; the value is the JSON of
/// `schemas/integrity/checkpoint.v1.schema.json`.
public struct ChainCheckpoint: Sendable, Hashable {
    /// The `accord-record-kind` header name.
    public static let recordKindHeader = "accord-record-kind"
    /// The `accord-record-kind` value of a checkpoint record.
    public static let recordKind = "chain-checkpoint"
    /// The `$id` of the JSON Schema of the record value.
    public static let schemaId = "https://accord.example/schemas/integrity/checkpoint.v1.schema.json"
    /// The domain-separation first line of the signed bytes.
    public static let domain = "accord-checkpoint-v1\n"
    /// Largest accepted record value in bytes.
    public static let maxBytes = 4096

    /// The chain: source, topic and partition.
    public let chain: ChainID
    /// Events in the chain so far (0 allowed: an empty chain).
    public let count: Int64
    /// The hash of event number `count` (`Hash256.zero` when `count` is 0).
    public let head: Hash256
    /// The `sequence` of event number `count` (0 when `count` is 0).
    public let lastSequence: Int64
    /// When the checkpoint was signed; selects the key's validity window.
    public let issuedAt: Timestamp
    /// The signing key's id.
    public let keyId: String
    /// Base64 Ed25519 signature over `signedBytes`.
    public let signature: String

    /// Creates a checkpoint from its fields (no check of the signature: see `ChainVerifier`).
    public init(chain: ChainID, count: Int64, head: Hash256, lastSequence: Int64, issuedAt: Timestamp,
                keyId: String, signature: String) throws(IntegrityError) {
        try ChainCheckpoint.check(chain: chain, count: count, head: head, lastSequence: lastSequence, keyId: keyId)
        self.chain = chain
        self.count = count
        self.head = head
        self.lastSequence = lastSequence
        self.issuedAt = issuedAt
        self.keyId = keyId
        self.signature = signature
    }

    /// Creates and signs a checkpoint; `key.signer` must be the chain's source.
    public static func signed(chain: ChainID, count: Int64, head: Hash256, lastSequence: Int64,
                              issuedAt: Timestamp, key: AgencySigningKey) throws(IntegrityError) -> ChainCheckpoint {
        guard key.signer == chain.source else {
            throw IntegrityError(.keyFailure, field: "key", "key of \(key.signer) cannot sign for \(chain.source)")
        }
        try check(chain: chain, count: count, head: head, lastSequence: lastSequence, keyId: key.keyId)
        let bytes = canonicalBytes(chain: chain, count: count, head: head, lastSequence: lastSequence,
                                   issuedAt: issuedAt, keyId: key.keyId)
        return try ChainCheckpoint(chain: chain, count: count, head: head, lastSequence: lastSequence,
                                   issuedAt: issuedAt, keyId: key.keyId, signature: key.sign(bytes))
    }

    private static func check(chain: ChainID, count: Int64, head: Hash256, lastSequence: Int64,
                              keyId: String) throws(IntegrityError) {
        guard EventSource(urn: chain.source) != nil else {
            throw IntegrityError(.invalidValue, field: "source", "\"\(chain.source.prefix(80))\" is not an agency URN")
        }
        guard Canonical.isTopic(chain.topic) else {
            throw IntegrityError(.invalidValue, field: "topic", "\"\(chain.topic.prefix(80))\" is not a Kafka topic name")
        }
        guard chain.partition >= 0 else {
            throw IntegrityError(.invalidValue, field: "partition", "\(chain.partition) is negative")
        }
        guard count >= 0, lastSequence >= 0 else {
            throw IntegrityError(.invalidValue, field: count < 0 ? "count" : "lastSequence", "must not be negative")
        }
        guard (count == 0) == (lastSequence == 0), count > 0 || head == .zero else {
            throw IntegrityError(.invalidValue, field: "count",
                                 "an empty chain has head 0…0 and lastSequence 0; a non-empty one a lastSequence ≥ 1")
        }
        guard Canonical.isKeyId(keyId) else {
            throw IntegrityError(.invalidValue, field: "keyId", "\"\(keyId.prefix(40))\" is not 16 lower-case hex digits")
        }
    }

    /// The exact bytes signed: `accord-checkpoint-v1\n` then `name=value\n` for source, topic,
    /// partition, count, head, lastSequence, issuedAt, keyId, in that order.
    public var signedBytes: [UInt8] {
        ChainCheckpoint.canonicalBytes(chain: chain, count: count, head: head, lastSequence: lastSequence,
                                       issuedAt: issuedAt, keyId: keyId)
    }

    static func canonicalBytes(chain: ChainID, count: Int64, head: Hash256, lastSequence: Int64,
                               issuedAt: Timestamp, keyId: String) -> [UInt8] {
        var out: [UInt8] = Array(domain.utf8)
        Canonical.line("source", chain.source, to: &out)
        Canonical.line("topic", chain.topic, to: &out)
        Canonical.line("partition", String(chain.partition), to: &out)
        Canonical.line("count", String(count), to: &out)
        Canonical.line("head", head.hex, to: &out)
        Canonical.line("lastSequence", String(lastSequence), to: &out)
        Canonical.line("issuedAt", issuedAt.rfc3339, to: &out)
        Canonical.line("keyId", keyId, to: &out)
        return out
    }

    // MARK: - Kafka record

    private struct Body: Codable {
        var source: String
        var topic: String
        var partition: Int32
        var count: Int64
        var head: String
        var lastSequence: Int64
        var issuedAt: String
        var keyId: String
        var signature: String
    }

    /// Whether a consumed record is a checkpoint (header `accord-record-kind: chain-checkpoint`)
    /// rather than an event; check this before decoding records as events.
    public static func isCheckpointRecord(_ message: BinaryMessage) -> Bool {
        message.header(recordKindHeader)?.value.elementsEqual(recordKind.utf8) ?? false
    }

    /// The Kafka record: key = source URN; headers `accord-record-kind`, `content-type`,
    /// `accord-schema`; value = the JSON body, keys sorted. Produce it to `chain.topic`,
    /// partition `chain.partition`, after the event it covers.
    public var record: BinaryMessage {
        let body = Body(source: chain.source, topic: chain.topic, partition: chain.partition, count: count,
                        head: head.hex, lastSequence: lastSequence, issuedAt: issuedAt.rfc3339, keyId: keyId,
                        signature: signature)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding strings and integers cannot fail.
        let value = (try? Array(encoder.encode(body))) ?? []
        return BinaryMessage(key: Array(chain.source.utf8), headers: [
            MessageHeader(name: Self.recordKindHeader, text: Self.recordKind),
            MessageHeader(name: "content-type", text: "application/json"),
            MessageHeader(name: "accord-schema", text: Self.schemaId),
        ], value: value)
    }

    /// Decodes a checkpoint record: the kind header, a JSON content type, the body, and a record
    /// key equal to the body's source. Does not check the signature (see `ChainVerifier`).
    public init(record message: BinaryMessage) throws(IntegrityError) {
        guard Self.isCheckpointRecord(message) else {
            throw IntegrityError(.invalidValue, field: Self.recordKindHeader, "record is not a \(Self.recordKind)")
        }
        if let contentType = message.header("content-type") {
            guard contentType.text?.lowercased().hasPrefix("application/json") == true else {
                throw IntegrityError(.invalidValue, field: "content-type", "expected application/json")
            }
        }
        try self.init(json: message.value)
        guard let key = message.key, key.elementsEqual(chain.source.utf8) else {
            throw IntegrityError(.invalidValue, field: "key", "record key must be the checkpoint's source \(chain.source)")
        }
    }

    /// Decodes the JSON body of a checkpoint record.
    public init(json bytes: [UInt8]) throws(IntegrityError) {
        guard bytes.count <= Self.maxBytes else {
            throw IntegrityError(.tooLarge, field: "value", "checkpoint is \(bytes.count) bytes; the limit is \(Self.maxBytes)")
        }
        let body: Body
        do {
            body = try JSONDecoder().decode(Body.self, from: Data(bytes))
        } catch {
            throw Canonical.render(error, context: "")
        }
        guard let head = Hash256(hex: body.head) else {
            throw IntegrityError(.invalidValue, field: "head", "\"\(body.head.prefix(80))\" is not 64 lower-case hex digits")
        }
        guard let issuedAt = Timestamp(rfc3339: body.issuedAt), issuedAt.rfc3339 == body.issuedAt else {
            throw IntegrityError(.invalidValue, field: "issuedAt",
                                 "\"\(body.issuedAt.prefix(40))\" is not a canonical UTC RFC 3339 instant such as 2025-03-03T09:00:00Z")
        }
        guard Canonical.base64(body.signature, count: 64) != nil else {
            throw IntegrityError(.invalidValue, field: "signature", "expected base64 of a 64-byte Ed25519 signature")
        }
        try self.init(chain: ChainID(source: body.source, topic: body.topic, partition: body.partition),
                      count: body.count, head: head, lastSequence: body.lastSequence, issuedAt: issuedAt,
                      keyId: body.keyId, signature: body.signature)
    }
}
