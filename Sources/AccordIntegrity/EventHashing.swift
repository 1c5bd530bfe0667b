import AccordEvents
import Crypto

/// An event's hash and the attributes the chain needs, read from the exact record bytes.
public struct HashedEvent: Sendable, Hashable {
    /// `SHA-256("accord-event-v1\n" ‖ attribute lines ‖ "\n" ‖ data)`; see `schemas/integrity.md`.
    public let hash: Hash256
    /// The `ce_id` text, if present.
    public let id: String?
    /// The `ce_source` text, if present.
    public let source: String?
    /// The `ce_sequence` text, if present.
    public let sequence: String?
    /// The `ce_prevhash` text, if present.
    public let prevHash: String?

    /// Creates a value (normally made by `EventHashing`).
    public init(hash: Hash256, id: String?, source: String?, sequence: String?, prevHash: String?) {
        self.hash = hash
        self.id = id
        self.source = source
        self.sequence = sequence
        self.prevHash = prevHash
    }
}

/// The canonical, language-neutral event hash of `schemas/integrity.md` §2.
///
/// The consumer hashes the headers and value exactly as received; the producer hashes the
/// exact `BinaryMessage` it sends. Every CloudEvents attribute present is committed to
/// (every `ce_<name>` header plus `content-type` as `datacontenttype`), except `signature`;
/// `prevhash` is included, so each event commits to its predecessor.
public enum EventHashing {
    /// The domain-separation prefix of the event hash preimage.
    public static let domain = "accord-event-v1\n"

    /// The canonical preimage (the bytes that are hashed) of a record: for partners and debugging.
    public static func preimage(headers: [MessageHeader], value: [UInt8]) throws(IntegrityError) -> [UInt8] {
        try build(headers: headers, value: value).bytes
    }

    /// Hashes a record as received: its headers (any order) and value bytes.
    public static func hash(headers: [MessageHeader], value: [UInt8]) throws(IntegrityError) -> HashedEvent {
        let built = try build(headers: headers, value: value)
        return HashedEvent(hash: Hash256.sha256(built.bytes), id: built.id, source: built.source,
                           sequence: built.sequence, prevHash: built.prevHash)
    }

    /// Hashes a binary-mode message (the key is not part of the hash: it equals `ce_partitionkey`).
    public static func hash(message: BinaryMessage) throws(IntegrityError) -> HashedEvent {
        try hash(headers: message.headers, value: message.value)
    }

    /// Producer side: encodes the event with `codec` and hashes the resulting message.
    /// Send exactly the returned message; re-encoding later must give the same bytes.
    public static func hash(event: AccordEvent, codec: EventCodec) throws(IntegrityError) -> (message: BinaryMessage, hashed: HashedEvent) {
        let message: BinaryMessage
        do {
            message = try codec.encodeBinary(event)
        } catch {
            throw IntegrityError(.invalidValue, field: error.field, "event cannot be encoded: \(error.message)")
        }
        return (message, try hash(message: message))
    }

    private struct Built {
        var bytes: [UInt8]
        var id: String?
        var source: String?
        var sequence: String?
        var prevHash: String?
    }

    private static let datacontenttype: [UInt8] = Array("datacontenttype".utf8)
    private static let signatureName: [UInt8] = Array("signature".utf8)
    private static let idName: [UInt8] = Array("id".utf8)
    private static let sourceName: [UInt8] = Array("source".utf8)
    private static let sequenceName: [UInt8] = Array("sequence".utf8)
    private static let prevhashName: [UInt8] = Array("prevhash".utf8)

    private static func build(headers: [MessageHeader], value: [UInt8]) throws(IntegrityError) -> Built {
        var names: [(name: [UInt8], value: [UInt8], header: String)] = []
        names.reserveCapacity(headers.count)
        var result = Built(bytes: [])
        for header in headers {
            let utf8 = header.name.utf8
            let name: [UInt8]
            if utf8.count > 3, utf8.starts(with: "ce_".utf8) {
                name = Array(utf8.dropFirst(3))
                for c in name where !((97...122).contains(c) || (48...57).contains(c)) {
                    throw IntegrityError(.malformed, field: header.name,
                                         "not a CloudEvents attribute header: attribute names are lower-case letters and digits")
                }
                if name == signatureName { continue }
            } else if utf8.count == 12, header.name.lowercased() == "content-type" {
                name = datacontenttype
            } else {
                continue
            }
            guard let text = header.text else {
                throw IntegrityError(.malformed, field: header.name, "header value is not valid UTF-8")
            }
            if header.value.contains(UInt8(ascii: "\n")) {
                throw IntegrityError(.malformed, field: header.name, "header value contains a line feed")
            }
            if name == idName {
                result.id = text
            } else if name == sourceName {
                result.source = text
            } else if name == sequenceName {
                result.sequence = text
            } else if name == prevhashName {
                result.prevHash = text
            }
            names.append((name, header.value, header.name))
        }
        names.sort { $0.name.lexicographicallyPrecedes($1.name) }
        for i in names.indices.dropFirst() where names[i].name == names[i - 1].name {
            throw IntegrityError(.duplicateAttribute, field: names[i].header,
                                 "attribute \(String(decoding: names[i].name, as: UTF8.self)) appears more than once")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(domain.utf8.count + value.count + names.reduce(0) { $0 + $1.name.count + $1.value.count + 2 } + 1)
        bytes.append(contentsOf: domain.utf8)
        for entry in names {
            bytes.append(contentsOf: entry.name)
            bytes.append(UInt8(ascii: "="))
            bytes.append(contentsOf: entry.value)
            bytes.append(UInt8(ascii: "\n"))
        }
        bytes.append(UInt8(ascii: "\n"))
        bytes.append(contentsOf: value)
        result.bytes = bytes
        return result
    }
}
