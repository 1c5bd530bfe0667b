import AccordEvents
import AccordJSON

/// The checks a decoder cannot make because it never sees them: a name given twice in one
/// object (JSON decoders keep one of the values and say nothing) and a member the event kind
/// does not define (decoders skip it). At intake both are refused, so what a client sent is
/// exactly what is published, or the client is told why not.
enum StrictData {
    /// One problem found: the dotted field path (`data.requirements[0].hours`), the message
    /// and the reason slug.
    struct Problem: Sendable, Equatable {
        var field: String
        var message: String
        var reason: String
    }

    /// Every name that appears more than once in one object, at any depth of `value`.
    static func duplicateNames(in value: JSONValue, path: String = "data") -> [Problem] {
        var problems: [Problem] = []
        walkDuplicates(value, path: path, into: &problems)
        return problems
    }

    private static func walkDuplicates(_ value: JSONValue, path: String, into problems: inout [Problem]) {
        switch value {
        case .object(let members, _):
            var seen: Set<String> = []
            for member in members {
                let field = path + "." + member.name
                if !seen.insert(member.name).inserted {
                    problems.append(Problem(field: field, message: "\"\(member.name.prefix(64))\" appears more than once in this object; give each name once",
                                            reason: "duplicate-key"))
                    continue
                }
                walkDuplicates(member.value, path: field, into: &problems)
            }
        case .array(let elements, _):
            for (index, element) in elements.enumerated() {
                walkDuplicates(element, path: "\(path)[\(index)]", into: &problems)
            }
        default:
            break
        }
    }

    /// Members of `sent` that the decoded event does not carry: `kept` is the event's data as
    /// the codec writes it back. A member sent as `null` that the event leaves out is an absent
    /// optional, not an unknown field.
    static func unknownMembers(sent: JSONValue, kept: JSONValue, kind: EventKind, path: String = "data") -> [Problem] {
        var problems: [Problem] = []
        walkUnknown(sent: sent, kept: kept, kind: kind, path: path, into: &problems)
        return problems
    }

    private static func walkUnknown(sent: JSONValue, kept: JSONValue, kind: EventKind, path: String, into problems: inout [Problem]) {
        switch (sent, kept) {
        case (.object(let sentMembers, _), .object(let keptMembers, _)):
            var keptByName: [String: JSONValue] = [:]
            for member in keptMembers { keptByName[member.name] = member.value }
            for member in sentMembers {
                let field = path + "." + member.name
                guard let keptValue = keptByName[member.name] else {
                    if case .null = member.value { continue }
                    problems.append(Problem(field: field, message: "\(kind.type) has no field \"\(member.name.prefix(64))\"; see \(kind.dataschema)",
                                            reason: "unknown-field"))
                    continue
                }
                walkUnknown(sent: member.value, kept: keptValue, kind: kind, path: field, into: &problems)
            }
        case (.array(let sentElements, _), .array(let keptElements, _)) where sentElements.count == keptElements.count:
            for (index, pair) in zip(sentElements, keptElements).enumerated() {
                walkUnknown(sent: pair.0, kept: pair.1, kind: kind, path: "\(path)[\(index)]", into: &problems)
            }
        default:
            break
        }
    }
}
