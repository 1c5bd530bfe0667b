import Foundation

/// Encodes and decodes Accord events in the CloudEvents 1.0 Kafka protocol binding
/// (binary content mode) and in the CloudEvents JSON format (structured mode).
///
/// Binary mode: every attribute except `datacontenttype` is a `ce_<name>` header holding
/// UTF-8 text (integers in decimal, times in RFC 3339); `datacontenttype` is the `content-type`
/// header; the value is the JSON of `data`; the key is the `partitionkey` extension.
///
/// Decoding checks everything before the event reaches the projector and fails with an
/// `EventError` naming the header, attribute or `data` path. A codec is immutable and safe to
/// share between tasks; keep one and reuse it.
public struct EventCodec: Sendable {
    /// Default limit on the size of `data` (binary value or whole structured event): 256 KiB.
    public static let defaultMaxPayloadBytes = 256 * 1024

    /// Largest accepted payload in bytes; checked before any parsing.
    public let maxPayloadBytes: Int

    private let encoder: JSONEncoder
    private let decoder: JSONDecoder

    /// Creates a codec with the given payload size limit.
    public init(maxPayloadBytes: Int = EventCodec.defaultMaxPayloadBytes) {
        self.maxPayloadBytes = maxPayloadBytes
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        self.encoder = encoder
        self.decoder = JSONDecoder()
    }

    // MARK: - data

    /// The JSON bytes of a payload (the binary-mode record value), keys sorted for determinism.
    public func encodeData(_ payload: EventPayload) throws(EventError) -> [UInt8] {
        do {
            return Array(try encodeOpened(payload.data))
        } catch {
            throw EventError(.encodingFailed, field: "data", "could not encode: \(error)")
        }
    }

    private func encodeOpened<T: EventData>(_ data: T) throws -> Data {
        try encoder.encode(data)
    }

    /// Decodes and validates the JSON of a payload of the given kind. Errors name `data.<path>`.
    public func decodeData(_ bytes: [UInt8], kind: EventKind) throws(EventError) -> EventPayload {
        guard bytes.count <= maxPayloadBytes else {
            throw EventError(.payloadTooLarge, field: "data",
                             "payload is \(bytes.count) bytes; the limit is \(maxPayloadBytes)")
        }
        let payload: EventPayload
        do {
            payload = try decodeOpened(kind.dataType, from: Data(bytes))
        } catch {
            throw DecodingErrorRendering.render(error, prefix: "data")
        }
        try payload.checkVersion(kind)
        try payload.validate()
        return payload
    }

    private func decodeOpened<T: EventData>(_ type: T.Type, from data: Data) throws -> EventPayload {
        try decoder.decode(T.self, from: data).payload
    }

    // MARK: - binary mode

    /// Encodes an event as a binary-mode Kafka message. Does not validate; call
    /// `event.validate()` first when the event comes from outside.
    public func encodeBinary(_ event: AccordEvent) throws(EventError) -> BinaryMessage {
        let value = try encodeData(event.payload)
        var headers: [MessageHeader] = []
        headers.reserveCapacity(14)
        headers.append(MessageHeader(name: "ce_specversion", text: AccordEvent.specVersion))
        headers.append(MessageHeader(name: "ce_id", text: event.idString))
        headers.append(MessageHeader(name: "ce_source", text: event.source.urn))
        headers.append(MessageHeader(name: "ce_type", text: event.type))
        headers.append(MessageHeader(name: "ce_subject", text: event.subject))
        headers.append(MessageHeader(name: "ce_time", text: event.time.rfc3339))
        headers.append(MessageHeader(name: "ce_dataschema", text: event.dataschema))
        headers.append(MessageHeader(name: "ce_sequence", text: String(event.sequence)))
        headers.append(MessageHeader(name: "ce_partitionkey", text: event.partitionKey))
        if let v = event.causationId { headers.append(MessageHeader(name: "ce_causationid", text: v)) }
        if let v = event.correlationId { headers.append(MessageHeader(name: "ce_correlationid", text: v)) }
        if let v = event.signature { headers.append(MessageHeader(name: "ce_signature", text: v)) }
        if let v = event.prevHash { headers.append(MessageHeader(name: "ce_prevhash", text: v)) }
        headers.append(MessageHeader(name: "content-type", text: AccordEvent.dataContentType))
        return BinaryMessage(key: Array(event.partitionKey.utf8), headers: headers, value: value)
    }

    /// Decodes a binary-mode Kafka message read from `topic`, checking every attribute, the
    /// key, the topic ownership and the payload. Header order does not matter; unknown
    /// `ce_` extensions and non-CloudEvents headers are ignored; a repeated attribute header is rejected.
    public func decodeBinary(_ message: BinaryMessage, topic: String) throws(EventError) -> AccordEvent {
        guard message.value.count <= maxPayloadBytes else {
            throw EventError(.payloadTooLarge, field: "value",
                             "payload is \(message.value.count) bytes; the limit is \(maxPayloadBytes)")
        }
        var raw = RawAttributes()
        for header in message.headers {
            let name = header.name
            let attribute: RawAttributes.Name
            if name.utf8.count > 3, name.hasPrefix("ce_") {
                guard let a = RawAttributes.Name(rawValue: String(name.dropFirst(3))),
                      a != .datacontenttype else { continue }
                attribute = a
            } else if name.utf8.count == 12, name.lowercased() == "content-type" {
                attribute = .datacontenttype
            } else {
                continue
            }
            guard let text = header.text else {
                throw EventError(.malformed, field: name, "header value is not valid UTF-8")
            }
            try raw.set(attribute, text, naming: .binary)
        }
        let attributes = try raw.parse(naming: .binary, topic: topic)
        if let key = message.key {
            guard key.elementsEqual(attributes.partitionKey.utf8) else {
                throw EventError(.subjectMismatch, field: "key",
                                 "record key \"\(String(decoding: key.prefix(64), as: UTF8.self))\" differs from ce_partitionkey \"\(attributes.partitionKey)\"")
            }
        } else {
            throw EventError(.missingAttribute, field: "key", "record has no key; expected ce_partitionkey \"\(attributes.partitionKey)\"")
        }
        let payload = try decodeData(message.value, kind: attributes.kind)
        return try attributes.assemble(payload, naming: .binary)
    }

    // MARK: - structured mode

    /// Encodes an event in the CloudEvents JSON format (structured mode), keys sorted.
    public func encodeStructured(_ event: AccordEvent) throws(EventError) -> [UInt8] {
        do {
            return Array(try encodeStructuredOpened(event.payload.data, event))
        } catch {
            throw EventError(.encodingFailed, field: "data", "could not encode: \(error)")
        }
    }

    private func encodeStructuredOpened<T: EventData>(_ data: T, _ event: AccordEvent) throws -> Data {
        try encoder.encode(StructuredEvent(event: event, data: data))
    }

    /// Decodes an event in the CloudEvents JSON format. When `topic` is given, ownership is
    /// checked against it as in binary mode; otherwise the source must own the event's type.
    /// Errors name attributes by their JSON names (`source`, `data.hours`).
    public func decodeStructured(_ bytes: [UInt8], topic: String? = nil) throws(EventError) -> AccordEvent {
        guard bytes.count <= maxPayloadBytes else {
            throw EventError(.payloadTooLarge, field: "(root)",
                             "event is \(bytes.count) bytes; the limit is \(maxPayloadBytes)")
        }
        let json = Data(bytes)
        let raw: RawAttributes
        do {
            raw = try decoder.decode(StructuredAttributes.self, from: json).raw
        } catch {
            throw DecodingErrorRendering.render(error, prefix: "")
        }
        let attributes = try raw.parse(naming: .structured, topic: topic)
        let payload: EventPayload
        do {
            payload = try decodeStructuredData(attributes.kind.dataType, from: json)
        } catch {
            throw DecodingErrorRendering.render(error, prefix: "")
        }
        try payload.checkVersion(attributes.kind)
        try payload.validate()
        return try attributes.assemble(payload, naming: .structured)
    }

    private func decodeStructuredData<T: EventData>(_ type: T.Type, from json: Data) throws -> EventPayload {
        try decoder.decode(StructuredData<T>.self, from: json).data.payload
    }
}

/// The structured-mode JSON object written by `EventCodec.encodeStructured`.
private struct StructuredEvent<T: EventData>: Encodable {
    let event: AccordEvent
    let data: T

    enum Keys: String, CodingKey {
        case specversion, id, source, type, subject, time, datacontenttype, dataschema
        case sequence, partitionkey, causationid, correlationid, signature, prevhash, data
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(AccordEvent.specVersion, forKey: .specversion)
        try c.encode(event.idString, forKey: .id)
        try c.encode(event.source.urn, forKey: .source)
        try c.encode(event.type, forKey: .type)
        try c.encode(event.subject, forKey: .subject)
        try c.encode(event.time, forKey: .time)
        try c.encode(AccordEvent.dataContentType, forKey: .datacontenttype)
        try c.encode(event.dataschema, forKey: .dataschema)
        try c.encode(event.sequence, forKey: .sequence)
        try c.encode(event.partitionKey, forKey: .partitionkey)
        try c.encodeIfPresent(event.causationId, forKey: .causationid)
        try c.encodeIfPresent(event.correlationId, forKey: .correlationid)
        try c.encodeIfPresent(event.signature, forKey: .signature)
        try c.encodeIfPresent(event.prevHash, forKey: .prevhash)
        try c.encode(data, forKey: .data)
    }
}

/// Reads only `data` from a structured event.
private struct StructuredData<T: EventData>: Decodable {
    let data: T
}

/// Reads the attributes of a structured event as text (sequence as a JSON integer).
private struct StructuredAttributes: Decodable {
    var raw = RawAttributes()

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        for name in RawAttributes.Name.allCases {
            let key = Key(stringValue: name.rawValue)
            guard c.contains(key) else { continue }
            if name == .sequence {
                let value = try c.decodeInteger(Int64.self, forKey: key)
                try raw.set(name, String(value), naming: .structured)
            } else {
                try raw.set(name, try c.decode(String.self, forKey: key), naming: .structured)
            }
        }
    }
}
