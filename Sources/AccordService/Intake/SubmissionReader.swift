import AccordJSON
import Foundation

/// Reads raw submissions out of a JSON body (structured mode, single or batch) or out of
/// CloudEvents HTTP binary-mode headers.
enum SubmissionReader {
    /// The submissions of a JSON body: one object, or an array of objects (a batch).
    /// `batchOnly` (for `application/cloudevents-batch+json`) requires an array.
    static func readJSON(_ body: [UInt8], batchOnly: Bool) throws(IntakeFailure) -> [RawSubmission] {
        let document: JSONValue
        do {
            document = try JSONDocument.parse(body)
        } catch {
            throw .malformed(error)
        }
        switch document {
        case .object(let members, _):
            guard !batchOnly else {
                throw .invalid([IntakeItemError(index: 0, pointer: "", field: "(root)",
                                                message: "a cloudevents-batch body must be a JSON array of events",
                                                reason: "wrong-type")])
            }
            return [readObject(members, body: body, index: 0, prefix: [])]
        case .array(let elements, _):
            guard !elements.isEmpty else {
                throw .invalid([IntakeItemError(index: 0, pointer: "", field: "(root)",
                                                message: "the batch is empty; send at least one event",
                                                reason: "invalid-value")])
            }
            var items: [RawSubmission] = []
            var errors: [IntakeItemError] = []
            for (index, element) in elements.enumerated() {
                guard case .object(let members, _) = element else {
                    errors.append(IntakeItemError(index: index, pointer: "/\(index)", field: "[\(index)]",
                                                  message: "expected an event object, found \(element.typeName)",
                                                  reason: "wrong-type"))
                    continue
                }
                items.append(readObject(members, body: body, index: index, prefix: [String(index)]))
            }
            if !errors.isEmpty {
                throw .invalid(errors + items.flatMap(\.errors))
            }
            return items
        default:
            throw .invalid([IntakeItemError(index: 0, pointer: "", field: "(root)",
                                            message: "expected an event object or an array of them, found \(document.typeName)",
                                            reason: "wrong-type")])
        }
    }

    private static func readObject(_ members: [JSONMember], body: [UInt8], index: Int, prefix: [String]) -> RawSubmission {
        func locate(_ name: String, _ value: String) -> Located {
            Located(value: value, field: name, pointer: JSONPointer.pointer(prefix + [name]))
        }
        var item = RawSubmission(index: index, dataField: locate("data", ""),
                                 pointerToData: { tokens in JSONPointer.pointer(prefix + tokens) })
        var seen: Set<String> = []
        for member in members {
            let name = member.name
            if !seen.insert(name).inserted {
                item.fail(locate(name, ""), "appears more than once", reason: "duplicate-attribute")
                continue
            }
            if name == "data" {
                item.data = Array(body[member.value.range])
                item.dataValue = member.value
                continue
            }
            if name == "sequence" {
                item.sequence = locate(name, "")
                continue
            }
            let keyPath: WritableKeyPath<RawSubmission, Located?>
            switch name {
            case "type": keyPath = \.type
            case "id": keyPath = \.id
            case "time": keyPath = \.time
            case "causationid": keyPath = \.causationId
            case "correlationid": keyPath = \.correlationId
            case "recordedtime": keyPath = \.recordedTime
            case "source": keyPath = \.source
            case "specversion": keyPath = \.specVersion
            case "subject": keyPath = \.subject
            case "dataschema": keyPath = \.dataSchema
            case "datacontenttype": keyPath = \.dataContentType
            default: continue // other CloudEvents extensions are ignored
            }
            guard case .string(let text, _) = member.value else {
                item.fail(locate(name, ""), "expected string, found \(member.value.typeName)", reason: "wrong-type")
                continue
            }
            item[keyPath: keyPath] = locate(name, text)
        }
        return item
    }

    /// The one submission of a binary-mode request: attributes in `ce-*` headers, `data` in the body.
    /// `header` returns a header's value by lower-case name.
    static func readBinary(header: (String) -> String?, body: [UInt8]) -> RawSubmission {
        func locate(_ name: String) -> Located? {
            guard let raw = header(name) else { return nil }
            // CloudEvents HTTP binding: header values may be percent-encoded.
            let value = raw.contains("%") ? (raw.removingPercentEncoding ?? raw) : raw
            return Located(value: value, field: name, pointer: "")
        }
        var item = RawSubmission(index: 0, dataField: Located(value: "", field: "body", pointer: ""),
                                 pointerToData: { tokens in
                                     // The body is the data: its pointer drops the leading "data".
                                     var tokens = tokens
                                     if tokens.first == "data" { tokens.removeFirst() }
                                     return JSONPointer.pointer(tokens)
                                 })
        item.type = locate("ce-type")
        item.id = locate("ce-id")
        item.time = locate("ce-time")
        item.causationId = locate("ce-causationid")
        item.correlationId = locate("ce-correlationid")
        item.recordedTime = locate("ce-recordedtime")
        item.source = locate("ce-source")
        item.specVersion = locate("ce-specversion")
        item.subject = locate("ce-subject")
        item.dataSchema = locate("ce-dataschema")
        item.sequence = locate("ce-sequence")
        item.data = body
        return item
    }
}
