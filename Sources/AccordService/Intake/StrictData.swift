import AccordEvents
import AccordJSON

/// The checks a decoder cannot make because it never sees them: a name given twice in one
/// object (JSON decoders keep one of the values and say nothing) and a member the event kind
/// does not define (decoders skip it). At intake both are refused, so what a client sent is
/// exactly what is published, or the client is told why not.
enum StrictData {
    /// One problem found: the dotted field path (`data.requirements[0].hours`, a name that is
    /// not a plain word in quotes: `data["a.b"]`), the path's tokens for the JSON Pointer (a
    /// member's name is one token whatever it holds), the message and the reason slug.
    struct Problem: Sendable, Equatable {
        var field: String
        var tokens: [String]
        var message: String
        var reason: String
    }

    /// Where one step of a walk through the data is.
    private struct Path {
        var field: String
        var tokens: [String]

        func member(_ name: String) -> Path {
            let plain = !name.isEmpty && name.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
            }
            let shown = plain ? "\(field).\(name)" : "\(field)[\"\(name.prefix(64))\"]"
            return Path(field: shown, tokens: tokens + [name])
        }

        func element(_ index: Int) -> Path { Path(field: "\(field)[\(index)]", tokens: tokens + [String(index)]) }
    }

    /// Every name that appears more than once in one object, at any depth of `value`.
    static func duplicateNames(in value: JSONValue) -> [Problem] {
        var problems: [Problem] = []
        walkDuplicates(value, path: Path(field: "data", tokens: ["data"]), into: &problems)
        return problems
    }

    private static func walkDuplicates(_ value: JSONValue, path: Path, into problems: inout [Problem]) {
        switch value {
        case .object(let members, _):
            var seen: Set<String> = []
            for member in members {
                let field = path.member(member.name)
                if !seen.insert(member.name).inserted {
                    problems.append(Problem(field: field.field, tokens: field.tokens, message: "\"\(member.name.prefix(64))\" appears more than once in this object; give each name once",
                                            reason: "duplicate-key"))
                    continue
                }
                walkDuplicates(member.value, path: field, into: &problems)
            }
        case .array(let elements, _):
            for (index, element) in elements.enumerated() {
                walkDuplicates(element, path: path.element(index), into: &problems)
            }
        default:
            break
        }
    }

    /// Members of `sent` that the decoded event does not carry: `kept` is the event's data as
    /// the codec writes it back. A member sent as `null` that the event leaves out is an absent
    /// optional, not an unknown field.
    static func unknownMembers(sent: JSONValue, kept: JSONValue, kind: EventKind) -> [Problem] {
        var problems: [Problem] = []
        walkUnknown(sent: sent, kept: kept, kind: kind, path: Path(field: "data", tokens: ["data"]), into: &problems)
        return problems
    }

    private static func walkUnknown(sent: JSONValue, kept: JSONValue, kind: EventKind, path: Path, into problems: inout [Problem]) {
        switch (sent, kept) {
        case (.object(let sentMembers, _), .object(let keptMembers, _)):
            var keptByName: [String: JSONValue] = [:]
            for member in keptMembers { keptByName[member.name] = member.value }
            for member in sentMembers {
                let field = path.member(member.name)
                guard let keptValue = keptByName[member.name] else {
                    if case .null = member.value { continue }
                    problems.append(Problem(field: field.field, tokens: field.tokens, message: "\(kind.type) has no field \"\(member.name.prefix(64))\"; see \(kind.dataschema)",
                                            reason: "unknown-field"))
                    continue
                }
                walkUnknown(sent: member.value, kept: keptValue, kind: kind, path: field, into: &problems)
            }
        case (.array(let sentElements, _), .array(let keptElements, _)) where sentElements.count == keptElements.count:
            for (index, pair) in zip(sentElements, keptElements).enumerated() {
                walkUnknown(sent: pair.0, kept: pair.1, kind: kind, path: path.element(index), into: &problems)
            }
        default:
            break
        }
    }
}
