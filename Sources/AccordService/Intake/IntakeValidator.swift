import AccordJSON
import AccordEvents
import AccordHTTP
import Foundation

/// Validates raw submissions for one agency: the type must be known and owned by the agency's
/// kind, the data must decode and validate with the codec, and the attributes the client may
/// give (`id`, `time`, `causationid`, `correlationid`) must be well-formed.
struct IntakeValidator: Sendable {
    /// The agency publishing.
    let source: EventSource
    /// The codec that decodes and validates `data`.
    let codec: EventCodec
    /// The event kinds this agency's kind owns.
    let ownKinds: [EventKind]
    /// Whether `recordedtime` is taken (the service imports history) or refused.
    let acceptsRecordedTime: Bool

    /// How far ahead of the service's clock a `recordedtime` may be (clock skew between systems).
    static let recordedTimeSkew: Int64 = 300

    /// Creates the validator of `source`'s submissions.
    init(source: EventSource, codec: EventCodec, acceptsRecordedTime: Bool = false) {
        self.source = source
        self.codec = codec
        self.acceptsRecordedTime = acceptsRecordedTime
        self.ownKinds = AccordTopic.all.filter { $0.owner == source.kind }.flatMap(\.eventKinds)
    }

    /// Validates every item; returns them all, or throws every item's errors (nothing is partial).
    /// `now` is the service's clock, against which a `recordedtime` must not lie in the future.
    func validate(_ items: [RawSubmission], now: Timestamp? = nil) throws(IntakeFailure) -> [IntakeSubmission] {
        var submissions: [IntakeSubmission] = []
        var errors: [IntakeItemError] = []
        var tooLarge = false
        var ids: [UUID: Int] = [:]
        for item in items {
            let (validated, itemErrors) = validateItem(item, now: now)
            if let submission = validated {
                if let id = submission.id {
                    if let first = ids[id], let located = item.id {
                        errors.append(IntakeItemError(index: item.index, pointer: located.pointer, field: located.field,
                                                      message: "id \(id.lowercasedString) is also used by item \(first) of this batch",
                                                      reason: "duplicate-id"))
                        continue
                    }
                    ids[id] = item.index
                }
                submissions.append(submission)
            } else {
                if itemErrors.contains(where: { $0.reason == EventError.Reason.payloadTooLarge.rawValue }) { tooLarge = true }
                errors.append(contentsOf: itemErrors)
            }
        }
        if !errors.isEmpty {
            if tooLarge {
                throw .tooLarge("an event's data is larger than \(codec.maxPayloadBytes) bytes", errors)
            }
            throw .invalid(errors)
        }
        return submissions
    }

    /// Validates one item, collecting every problem found.
    func validateItem(_ raw: RawSubmission, now: Timestamp? = nil) -> (IntakeSubmission?, [IntakeItemError]) {
        var item = raw
        let kind = resolveKind(&item)
        var id: UUID?
        if let located = item.id {
            if let parsed = UUID(uuidString: located.value) {
                id = parsed
            } else {
                item.fail(located, "\"\(located.value.prefix(60))\" is not a UUID", reason: EventError.Reason.invalidId.rawValue)
            }
        }
        var time: Timestamp?
        if let located = item.time {
            if let parsed = Timestamp(rfc3339: located.value) {
                time = parsed
            } else {
                item.fail(located, "\"\(located.value.prefix(60))\" is not an RFC 3339 date-time such as 2025-03-01T09:30:00Z",
                          reason: EventError.Reason.invalidTime.rawValue)
            }
        }
        let recordedAt = checkRecordedTime(&item, time: time, now: now)
        if let located = item.specVersion, located.value != AccordEvent.specVersion {
            item.fail(located, "unsupported specversion \"\(located.value.prefix(20))\"; expected 1.0",
                      reason: EventError.Reason.invalidSpecVersion.rawValue)
        }
        if let located = item.source, located.value != source.urn {
            item.fail(located, "this service publishes only as \(source.urn); omit source or send that value",
                      reason: EventError.Reason.sourceNotTopicOwner.rawValue)
        }
        if let located = item.sequence {
            item.fail(located, "the service assigns sequence numbers; omit it", reason: EventError.Reason.invalidValue.rawValue)
        }
        if let located = item.dataContentType, !MediaTypes.isJSON(located.value) {
            item.fail(located, "data must be application/json", reason: EventError.Reason.unsupportedContentType.rawValue)
        }
        var payload: EventPayload?
        if let kind {
            if let located = item.dataSchema, located.value != kind.dataschema {
                item.fail(located, "dataschema of \(kind.type) is \(kind.dataschema)", reason: EventError.Reason.invalidValue.rawValue)
            }
            payload = decodeData(&item, kind: kind)
        }
        if let payload {
            if let located = item.subject, located.value != payload.subjectId {
                item.fail(located, "subject \"\(located.value.prefix(64))\" differs from the data's \(kind?.subjectKind.rawValue ?? "subject") \"\(payload.subjectId)\"",
                          reason: EventError.Reason.subjectMismatch.rawValue)
            }
            checkAgencyIdentity(&item, payload: payload)
            checkEnvelope(&item, payload: payload, id: id, time: time)
        }
        guard item.errors.isEmpty, let payload else { return (nil, item.errors) }
        return (IntakeSubmission(index: item.index, payload: payload, id: id, time: time,
                           causationId: item.causationId?.value, correlationId: item.correlationId?.value,
                           recordedAt: recordedAt), [])
    }

    /// The `recordedtime` an importing service takes: RFC 3339, with `time` given, not before it
    /// and not in the future. A service that does not import history refuses it.
    private func checkRecordedTime(_ item: inout RawSubmission, time: Timestamp?, now: Timestamp?) -> Timestamp? {
        guard let located = item.recordedTime else { return nil }
        guard acceptsRecordedTime else {
            item.fail(located, "this service records events when it accepts them; recordedtime is taken only by a service started with --accept-recorded-time (importing history)",
                      reason: EventError.Reason.invalidValue.rawValue)
            return nil
        }
        guard let parsed = Timestamp(rfc3339: located.value) else {
            item.fail(located, "\"\(located.value.prefix(60))\" is not an RFC 3339 date-time such as 2025-03-01T09:30:00Z",
                      reason: EventError.Reason.invalidTime.rawValue)
            return nil
        }
        guard let time else {
            if item.time == nil {
                item.fail(located, "recordedtime needs the event's time as well: give time", reason: EventError.Reason.missingAttribute.rawValue)
            }
            return nil
        }
        if parsed < time {
            item.fail(located, "recordedtime \(parsed.rfc3339) is before the event's time \(time.rfc3339); an event is recorded when or after it happens",
                      reason: EventError.Reason.invalidTime.rawValue)
            return nil
        }
        if let now, let latest = now.adding(seconds: Self.recordedTimeSkew), parsed > latest {
            item.fail(located, "recordedtime \(parsed.rfc3339) is in the future (the service's clock says \(now.rfc3339))",
                      reason: EventError.Reason.invalidTime.rawValue)
            return nil
        }
        return parsed
    }

    /// Resolves the full type or short name; the type must be owned by this agency's kind.
    private func resolveKind(_ item: inout RawSubmission) -> EventKind? {
        guard let located = item.type else {
            let field = item.dataField.field == "body" ? "ce-type" : "type"
            let pointer = item.dataField.field == "body" ? "" : String(item.dataField.pointer.dropLast("/data".count)) + "/type"
            item.errors.append(IntakeItemError(index: item.index, pointer: pointer, field: field,
                                               message: "missing required attribute: the event type", reason: EventError.Reason.missingAttribute.rawValue))
            return nil
        }
        let kind: EventKind
        switch EventKind.lookup(type: located.value) {
        case .known(let known):
            kind = known
        case .unknownVersion(let versions):
            item.fail(located, "\(located.value.prefix(120)) is not a known version; known versions: \(versions.map { "v\($0)" }.joined(separator: ", "))",
                      reason: EventError.Reason.unknownVersion.rawValue)
            return nil
        case .unknownType:
            let named = EventKind.allCases.filter { $0.name == located.value }
            guard let latest = (named.filter { ownKinds.contains($0) }.max { $0.version < $1.version })
                    ?? named.max(by: { $0.version < $1.version }) else {
                item.fail(located, "unknown event type \"\(located.value.prefix(120))\"; this service accepts \(ownKinds.map(\.name).joined(separator: ", "))",
                          reason: EventError.Reason.unknownType.rawValue)
                return nil
            }
            kind = latest
        }
        guard kind.owner == source.kind else {
            item.fail(located, "\(kind.type) is published by \(kind.owner.rawValue) agencies on \(kind.topic.name); this is the \(source.kind.rawValue) service of \(source.agencyId)",
                      reason: "not-owned-by-agency")
            return nil
        }
        return kind
    }

    private func decodeData(_ item: inout RawSubmission, kind: EventKind) -> EventPayload? {
        guard let data = item.data else {
            item.errors.append(IntakeItemError(index: item.index, pointer: item.dataField.pointer, field: item.dataField.field,
                                               message: "missing required attribute: the event data", reason: EventError.Reason.missingAttribute.rawValue))
            return nil
        }
        let payload: EventPayload
        do {
            payload = try codec.decodeData(data, kind: kind)
        } catch {
            item.errors.append(IntakeItemError(index: item.index, pointer: item.dataPointer(error.field), field: error.field,
                                               message: error.message, reason: error.reason.rawValue))
            return nil
        }
        let problems = strictProblems(item, data: data, payload: payload, kind: kind)
        guard problems.isEmpty else {
            for problem in problems {
                item.errors.append(IntakeItemError(index: item.index, pointer: item.dataPointer(tokens: problem.tokens), field: problem.field,
                                                   message: problem.message, reason: problem.reason))
            }
            return nil
        }
        return payload
    }

    /// Names given twice and members the kind does not define, anywhere in `data`.
    private func strictProblems(_ item: RawSubmission, data: [UInt8], payload: EventPayload, kind: EventKind) -> [StrictData.Problem] {
        let sent: JSONValue
        do {
            sent = try item.dataValue ?? JSONDocument.parse(data)
        } catch {
            return [StrictData.Problem(field: "data", tokens: ["data"], message: "data is not well-formed JSON: \(error)", reason: EventError.Reason.malformed.rawValue)]
        }
        let duplicates = StrictData.duplicateNames(in: sent)
        guard duplicates.isEmpty else { return duplicates }
        let kept: JSONValue
        do {
            kept = try JSONDocument.parse(codec.encodeData(payload))
        } catch {
            return [StrictData.Problem(field: "data", tokens: ["data"], message: "the service could not write this data back: \(error)", reason: EventError.Reason.encodingFailed.rawValue)]
        }
        return StrictData.unknownMembers(sent: sent, kept: kept, kind: kind)
    }

    /// An agency speaks only for itself: a provider's events carry its own `providerId`,
    /// a commissioner's awards and priorities its own `commissionerId`.
    private func checkAgencyIdentity(_ item: inout RawSubmission, payload: EventPayload) {
        let claimed: (field: String, value: String)?
        switch payload {
        case .interventions(let event):
            claimed = ("providerId", Self.providerId(of: event))
        case .commissioning(.contractAwarded(let data)):
            claimed = ("commissionerId", data.commissionerId)
        case .commissioning(.localPrioritySet(let data)):
            claimed = ("commissionerId", data.commissionerId)
        default:
            claimed = nil
        }
        guard let claimed, claimed.value != source.agencyId else { return }
        let field = "data.\(claimed.field)"
        item.errors.append(IntakeItemError(index: item.index, pointer: item.dataPointer(field), field: field,
                                           message: "\"\(claimed.value)\" is not this agency; \(source.urn) publishes only its own events (\(source.agencyId))",
                                           reason: "not-own-agency"))
    }

    /// The provider named by an interventions event.
    static func providerId(of event: InterventionsEvent) -> String {
        switch event {
        case .referralAccepted(let d): d.providerId
        case .referralDeclined(let d): d.providerId
        case .interventionStarted(let d): d.providerId
        case .appointmentAttended(let d): d.providerId
        case .appointmentMissed(let d): d.providerId
        case .unpaidWorkHoursLogged(let d): d.providerId
        case .curfewViolationDetected(let d): d.providerId
        case .treatmentSessionRecorded(let d): d.providerId
        case .interventionCompleted(let d): d.providerId
        case .interventionEndedEarly(let d): d.providerId
        }
    }

    /// Checks the envelope a receiver would check (extension tokens), with placeholder id/time/sequence.
    private func checkEnvelope(_ item: inout RawSubmission, payload: EventPayload, id: UUID?, time: Timestamp?) {
        let probe = AccordEvent(id: id ?? UUID(), source: source, time: time ?? Timestamp(startOf: EventSamples.defaultDate),
                                sequence: 1, payload: payload,
                                causationId: item.causationId?.value, correlationId: item.correlationId?.value)
        do {
            try probe.validate()
        } catch {
            let located: Located? = switch error.field {
            case "causationid": item.causationId
            case "correlationid": item.correlationId
            default: nil
            }
            if let located {
                item.fail(located, error.message, reason: error.reason.rawValue)
            } else {
                item.errors.append(IntakeItemError(index: item.index, pointer: item.dataPointer(error.field), field: error.field,
                                                   message: error.message, reason: error.reason.rawValue))
            }
        }
    }
}
