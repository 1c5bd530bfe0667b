import Foundation

/// How attribute names are spelled in errors: `ce_source` in binary mode, `source` in structured mode.
enum AttributeNaming {
    case binary, structured

    func name(_ attribute: RawAttributes.Name) -> String {
        switch self {
        case .binary: attribute == .datacontenttype ? "content-type" : "ce_\(attribute.rawValue)"
        case .structured: attribute.rawValue
        }
    }
}

/// CloudEvents attributes as received text, before checking.
struct RawAttributes {
    /// The attributes Accord reads.
    enum Name: String, CaseIterable {
        case specversion, id, source, type, subject, time, datacontenttype, dataschema
        case sequence, partitionkey, causationid, correlationid, signature, prevhash
    }

    var specversion: String?
    var id: String?
    var source: String?
    var type: String?
    var subject: String?
    var time: String?
    var datacontenttype: String?
    var dataschema: String?
    var sequence: String?
    var partitionkey: String?
    var causationid: String?
    var correlationid: String?
    var signature: String?
    var prevhash: String?

    /// Stores one attribute; a second value for the same attribute is an error.
    mutating func set(_ name: Name, _ value: String, naming: AttributeNaming) throws(EventError) {
        func store(_ slot: inout String?) throws(EventError) {
            guard slot == nil else {
                throw EventError(.duplicateAttribute, field: naming.name(name), "attribute appears more than once")
            }
            slot = value
        }
        switch name {
        case .specversion: try store(&specversion)
        case .id: try store(&id)
        case .source: try store(&source)
        case .type: try store(&type)
        case .subject: try store(&subject)
        case .time: try store(&time)
        case .datacontenttype: try store(&datacontenttype)
        case .dataschema: try store(&dataschema)
        case .sequence: try store(&sequence)
        case .partitionkey: try store(&partitionkey)
        case .causationid: try store(&causationid)
        case .correlationid: try store(&correlationid)
        case .signature: try store(&signature)
        case .prevhash: try store(&prevhash)
        }
    }

    private func required(_ value: String?, _ name: Name, _ naming: AttributeNaming) throws(EventError) -> String {
        guard let value else {
            throw EventError(.missingAttribute, field: naming.name(name), "missing required attribute")
        }
        return value
    }

    /// Checks every attribute; `topic` (when given) must be an Accord event topic owned by the source.
    func parse(naming: AttributeNaming, topic topicName: String?) throws(EventError) -> ParsedAttributes {
        let spec = try required(specversion, .specversion, naming)
        guard spec == AccordEvent.specVersion else {
            throw EventError(.invalidSpecVersion, field: naming.name(.specversion),
                             "\"\(spec.prefix(20))\" is not supported; expected \"1.0\"")
        }
        let idText = try required(id, .id, naming)
        guard idText.utf8.count == 36, let uuid = UUID(uuidString: idText) else {
            throw EventError(.invalidId, field: naming.name(.id), "\"\(idText.prefix(64))\" is not a UUID")
        }
        let sourceText = try required(source, .source, naming)
        guard let eventSource = EventSource(urn: sourceText) else {
            throw EventError(.invalidValue, field: naming.name(.source),
                             "\"\(sourceText.prefix(80))\" is not an agency URN; expected urn:accord:<probation|interventions|commissioner>:<agency-id>")
        }
        let typeText = try required(type, .type, naming)
        let kind: EventKind
        switch EventKind.lookup(type: typeText) {
        case .known(let k): kind = k
        case .unknownVersion(let versions):
            throw EventError(.unknownVersion, field: naming.name(.type),
                             "unknown version of a known event type \"\(typeText.prefix(100))\"; known versions: \(versions.map { "v\($0)" }.joined(separator: ", "))")
        case .unknownType:
            throw EventError(.unknownType, field: naming.name(.type), "unknown event type \"\(typeText.prefix(100))\"")
        }
        if let topicName {
            guard let topic = AccordTopic(name: topicName), let owner = topic.owner else {
                throw EventError(.unknownTopic, field: "topic", "\"\(topicName.prefix(100))\" is not an Accord event topic")
            }
            guard eventSource.kind == owner else {
                throw EventError(.sourceNotTopicOwner, field: naming.name(.source),
                                 "\(eventSource.urn) is an agency of kind \(eventSource.kind.rawValue); topic \(topic.name) is owned by \(owner.rawValue)")
            }
            guard kind.topic == topic else {
                throw EventError(.sourceNotTopicOwner, field: naming.name(.type),
                                 "\(kind.type) belongs on \(kind.topic.name), not \(topic.name)")
            }
        } else {
            guard eventSource.kind == kind.owner else {
                throw EventError(.sourceNotTopicOwner, field: naming.name(.source),
                                 "\(eventSource.urn) is a \(eventSource.kind.rawValue) agency; \(kind.type) is owned by \(kind.owner.rawValue)")
            }
        }
        let timeText = try required(time, .time, naming)
        guard let instant = Timestamp(rfc3339: timeText) else {
            throw EventError(.invalidTime, field: naming.name(.time),
                             "\"\(timeText.prefix(64))\" is not an RFC 3339 date-time such as 2025-03-01T09:30:00Z")
        }
        let subjectText = try required(subject, .subject, naming)
        let key = try required(partitionkey, .partitionkey, naming)
        guard key == subjectText else {
            throw EventError(.subjectMismatch, field: naming.name(.partitionkey),
                             "\"\(key.prefix(64))\" differs from subject \"\(subjectText.prefix(64))\"")
        }
        let schema = try required(dataschema, .dataschema, naming)
        guard schema == kind.dataschema else {
            throw EventError(.invalidValue, field: naming.name(.dataschema),
                             "\"\(schema.prefix(120))\" is not the schema of \(kind.type); expected \(kind.dataschema)")
        }
        let contentType = try required(datacontenttype, .datacontenttype, naming)
        guard RawAttributes.isJSONContentType(contentType) else {
            throw EventError(.unsupportedContentType, field: naming.name(.datacontenttype),
                             "\"\(contentType.prefix(80))\" is not supported; expected application/json")
        }
        let sequenceText = try required(sequence, .sequence, naming)
        guard sequenceText.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let seq = Int64(sequenceText), seq >= 1 else {
            throw EventError(.invalidValue, field: naming.name(.sequence),
                             "\"\(sequenceText.prefix(30))\" is not a sequence number; expected an integer ≥ 1")
        }
        for (name, value) in [(Name.causationid, causationid), (.correlationid, correlationid),
                              (.signature, signature), (.prevhash, prevhash)] {
            if let value, !Patterns.isToken(value) {
                throw EventError(.invalidValue, field: naming.name(name),
                                 "expected 1 to 128 printable ASCII characters without spaces")
            }
        }
        return ParsedAttributes(id: uuid, source: eventSource, kind: kind, time: instant, subject: subjectText,
                                sequence: seq, causationId: causationid, correlationId: correlationid,
                                signature: signature, prevHash: prevhash)
    }

    /// Accepts `application/json`, optionally with a `charset=utf-8` parameter (any case,
    /// optional spaces and quotes), as official CloudEvents SDKs write it.
    static func isJSONContentType(_ text: String) -> Bool {
        if text == "application/json" { return true }
        var parts = text.split(separator: ";", omittingEmptySubsequences: false).makeIterator()
        guard let media = parts.next(),
              media.trimmingCharacters(in: .whitespaces).lowercased() == "application/json" else { return false }
        while let parameter = parts.next() {
            let pieces = parameter.split(separator: "=", maxSplits: 1)
            guard pieces.count == 2 else { return false }
            let name = pieces[0].trimmingCharacters(in: .whitespaces).lowercased()
            var value = pieces[1].trimmingCharacters(in: .whitespaces).lowercased()
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            guard name == "charset", value == "utf-8" || value == "utf8" else { return false }
        }
        return true
    }
}

/// Attributes that passed every check, waiting for the payload.
struct ParsedAttributes {
    let id: UUID
    let source: EventSource
    let kind: EventKind
    let time: Timestamp
    let subject: String
    let sequence: Int64
    let causationId: String?
    let correlationId: String?
    let signature: String?
    let prevHash: String?

    var partitionKey: String { subject }

    /// Joins attributes and payload; the payload's own subject id must equal the subject.
    func assemble(_ payload: EventPayload, naming: AttributeNaming) throws(EventError) -> AccordEvent {
        guard payload.subjectId == subject else {
            throw EventError(.subjectMismatch, field: "data.\(kind.subjectKind.rawValue)",
                             "\"\(payload.subjectId)\" differs from \(naming.name(.subject)) \"\(subject.prefix(64))\"")
        }
        return AccordEvent(id: id, source: source, time: time, sequence: sequence, payload: payload,
                           causationId: causationId, correlationId: correlationId,
                           signature: signature, prevHash: prevHash)
    }
}
