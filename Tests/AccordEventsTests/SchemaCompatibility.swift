import Foundation

/// Compares a published JSON Schema with its current file and lists every breaking change:
/// what a document valid (or a producer correct) under the published version could no longer
/// rely on. Additive changes — a new optional property, a new definition, a relaxed limit, a new
/// enum value, edited descriptions — are not listed.
///
/// Breaking: a property or definition removed; a type changed or narrowed; a new required
/// property; `additionalProperties` tightened; an enum value removed; a `$ref`, `const`, `pattern`
/// or `format` changed or added; a lower limit raised or an upper limit lowered (or added);
/// `uniqueItems` turned on; an alternative of `oneOf`/`anyOf` removed or a member of `allOf` added;
/// and any change to a keyword this check does not model (it cannot tell that one is additive).
enum SchemaCompatibility {
    /// Keywords that only annotate: changing them never breaks anyone.
    static let annotations: Set<String> = [
        "title", "description", "$comment", "examples", "default", "deprecated", "readOnly", "writeOnly", "$schema",
    ]
    static let lowerLimits = ["minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties", "minContains"]
    static let upperLimits = ["maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties", "maxContains"]
    /// Keywords compared by the rules above; any other keyword must be unchanged.
    static let modelled: Set<String> = annotations.union(lowerLimits).union(upperLimits).union([
        "$id", "$ref", "type", "properties", "required", "additionalProperties", "enum", "const", "pattern", "format",
        "uniqueItems", "items", "prefixItems", "$defs", "oneOf", "anyOf", "allOf",
    ])

    /// Every breaking change from `published` to `current`, each as `<JSON pointer>: <what
    /// changed>`; empty when compatible.
    static func breakingChanges(published: JSON, current: JSON) -> [String] {
        var out: [String] = []
        compare(published, current, at: "", into: &out)
        return out
    }

    /// The failure text for one schema file: what broke and what to do instead.
    static func report(file: String, changes: [String]) -> String {
        let next = nextVersionFile(file)
        return """
            \(file) is published and this edit breaks it:
            \(changes.map { "  - " + $0 }.joined(separator: "\n"))
            A published version never changes incompatibly (schemas/README.md, Versioning). Restore \(file) and put the \
            breaking change in a new version, \(next), with its EventKind case and an upcaster from the old version.
            """
    }

    /// `events/x/name.v1.schema.json` → `events/x/name.v2.schema.json`.
    static func nextVersionFile(_ file: String) -> String {
        guard let range = file.range(of: #"\.v[0-9]+\.schema\.json$"#, options: .regularExpression),
              let n = Int(file[range].dropFirst(2).prefix { $0.isNumber }) else { return file + " (a new .vN+1 file)" }
        return file[..<range.lowerBound] + ".v\(n + 1).schema.json"
    }

    // MARK: comparison

    private static func compare(_ old: JSON, _ new: JSON, at path: String, into out: inout [String]) {
        let here = path.isEmpty ? "(root)" : path
        switch (old, new) {
        case (.bool(true), .bool(true)), (.bool(false), _):
            return  // `false` accepted nothing: anything is wider
        case (.bool(true), _):
            out.append("\(here): the schema accepted everything and now constrains the value")
            return
        case (.object, .bool(true)):
            return
        case (.object, .bool(false)):
            out.append("\(here): the schema now rejects every value")
            return
        case (.object(let o), .object(let n)):
            compareObjects(o, n, at: path, into: &out)
        default:
            if old != new { out.append("\(here): changed from \(old) to \(new)") }
        }
    }

    private static func compareObjects(_ o: [String: JSON], _ n: [String: JSON], at path: String, into out: inout [String]) {
        let here = path.isEmpty ? "(root)" : path
        for key in ["$id", "$ref", "const", "pattern", "format"] {
            switch (o[key], n[key]) {
            case (let a?, let b?) where a != b:
                out.append("\(here): \(key) changed from \(a) to \(b)")
            case (nil, let b?):
                out.append("\(here): \(key) \(b) added")
            default:
                break
            }
        }
        compareType(o["type"], n["type"], at: here, into: &out)
        compareEnum(o["enum"], n["enum"], at: here, into: &out)
        for key in lowerLimits {
            guard case .number(let b)? = n[key] else { continue }
            if case .number(let a)? = o[key] {
                if b > a { out.append("\(here): \(key) raised from \(JSON.number(a)) to \(JSON.number(b))") }
            } else {
                out.append("\(here): \(key) \(JSON.number(b)) added")
            }
        }
        for key in upperLimits {
            guard case .number(let b)? = n[key] else { continue }
            if case .number(let a)? = o[key] {
                if b < a { out.append("\(here): \(key) lowered from \(JSON.number(a)) to \(JSON.number(b))") }
            } else {
                out.append("\(here): \(key) \(JSON.number(b)) added")
            }
        }
        if n["uniqueItems"] == .bool(true), o["uniqueItems"] != .bool(true) {
            out.append("\(here): uniqueItems turned on")
        }
        let oldRequired = Set(o["required"]?.strings ?? [])
        for name in n["required"]?.strings ?? [] where !oldRequired.contains(name) {
            out.append("\(here): new required property \"\(name)\"")
        }
        compareMembers(o["properties"], n["properties"], what: "property", at: path + "/properties", into: &out)
        compareMembers(o["$defs"], n["$defs"], what: "definition", at: path + "/$defs", into: &out)
        compareAdditional(o["additionalProperties"], n["additionalProperties"], at: path, into: &out)
        switch (o["items"], n["items"]) {
        case (let a?, let b?): compare(a, b, at: path + "/items", into: &out)
        case (nil, let b?) where b != .bool(true): out.append("\(here): items constrained by \(b)")
        default: break
        }
        compareList(o["prefixItems"], n["prefixItems"], key: "prefixItems", at: path, into: &out, allowMore: true)
        compareList(o["oneOf"], n["oneOf"], key: "oneOf", at: path, into: &out, allowMore: true)
        compareList(o["anyOf"], n["anyOf"], key: "anyOf", at: path, into: &out, allowMore: true)
        compareList(o["allOf"], n["allOf"], key: "allOf", at: path, into: &out, allowMore: false)
        for key in Set(o.keys).union(n.keys).subtracting(modelled).sorted() where o[key] != n[key] {
            out.append("\(here): \(key) changed (this check cannot tell that the change is additive)")
        }
    }

    private static func compareType(_ old: JSON?, _ new: JSON?, at here: String, into out: inout [String]) {
        guard let newTypes = new?.typeSet else { return }
        guard let oldTypes = old?.typeSet else {
            out.append("\(here): type \(newTypes.sorted().joined(separator: "|")) added")
            return
        }
        // `number` includes every integer, so integer → number widens.
        let lost = oldTypes.filter { !newTypes.contains($0) && !($0 == "integer" && newTypes.contains("number")) }
        if !lost.isEmpty {
            out.append("\(here): type changed from \(oldTypes.sorted().joined(separator: "|")) to \(newTypes.sorted().joined(separator: "|"))")
        }
    }

    private static func compareEnum(_ old: JSON?, _ new: JSON?, at here: String, into out: inout [String]) {
        guard case .array(let newValues)? = new else { return }
        guard case .array(let oldValues)? = old else {
            out.append("\(here): enum added")
            return
        }
        for value in oldValues where !newValues.contains(value) {
            out.append("\(here): enum value \(value) removed")
        }
    }

    private static func compareMembers(_ old: JSON?, _ new: JSON?, what: String, at path: String, into out: inout [String]) {
        guard case .object(let o)? = old else { return }
        let n: [String: JSON]
        if case .object(let members)? = new { n = members } else { n = [:] }
        for name in o.keys.sorted() {
            guard let a = o[name] else { continue }
            guard let b = n[name] else {
                out.append("\(path)/\(name): \(what) removed")
                continue
            }
            compare(a, b, at: "\(path)/\(name)", into: &out)
        }
    }

    private static func compareAdditional(_ old: JSON?, _ new: JSON?, at path: String, into out: inout [String]) {
        let here = path.isEmpty ? "(root)" : path
        switch (old ?? .bool(true), new ?? .bool(true)) {
        case (.bool(false), _), (_, .bool(true)):
            return  // was closed already, or is open now: never narrower
        case (.object(let a), .object(let b)):
            compare(.object(a), .object(b), at: path + "/additionalProperties", into: &out)
        case (let a, let b):
            out.append("\(here): additionalProperties tightened from \(old == nil ? "absent (any)" : "\(a)") to \(b)")
        }
    }

    private static func compareList(_ old: JSON?, _ new: JSON?, key: String, at path: String, into out: inout [String],
                                    allowMore: Bool) {
        guard old != nil || new != nil else { return }
        let here = path.isEmpty ? "(root)" : path
        let o = old?.elements ?? []
        let n = new?.elements ?? []
        if n.count < o.count, allowMore {
            out.append("\(here): \(key) has \(n.count) alternatives, had \(o.count)")
        } else if n.count > o.count, !allowMore {
            out.append("\(here): \(key) has \(n.count) members, had \(o.count) (a new constraint)")
        }
        for i in 0..<min(o.count, n.count) {
            compare(o[i], n[i], at: "\(path)/\(key)/\(i)", into: &out)
        }
    }
}

/// A parsed JSON value, for comparing schemas exactly (booleans distinct from numbers).
indirect enum JSON: Decodable, Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSON])
    case object([String: JSON])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let value = try? c.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? c.decode(Double.self) {
            self = .number(value)
        } else if let value = try? c.decode(String.self) {
            self = .string(value)
        } else if let value = try? c.decode([JSON].self) {
            self = .array(value)
        } else {
            self = .object(try c.decode([String: JSON].self))
        }
    }

    /// Parses JSON text.
    static func parse(_ bytes: Data) throws -> JSON { try JSONDecoder().decode(JSON.self, from: bytes) }

    /// The strings of an array of strings.
    var strings: [String]? {
        guard case .array(let items) = self else { return nil }
        return items.compactMap { if case .string(let s) = $0 { s } else { nil } }
    }

    /// The elements of an array.
    var elements: [JSON]? {
        if case .array(let items) = self { items } else { nil }
    }

    /// `type` as a set: one name or a list of names.
    var typeSet: Set<String>? {
        switch self {
        case .string(let one): [one]
        case .array: strings.map(Set.init)
        default: nil
        }
    }

    /// A JSON string literal of `s`.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Indented JSON text, keys sorted, nested lines starting with `indent`.
    func pretty(_ indent: String = "") -> String {
        let inner = indent + "  "
        switch self {
        case .array(let items) where !items.isEmpty:
            return "[\n" + items.map { inner + $0.pretty(inner) }.joined(separator: ",\n") + "\n" + indent + "]"
        case .object(let members) where !members.isEmpty:
            return "{\n" + members.keys.sorted().map { "\(inner)\(JSON.string($0)): \((members[$0] ?? .null).pretty(inner))" }
                .joined(separator: ",\n") + "\n" + indent + "}"
        default:
            return description
        }
    }

    /// Compact JSON text, keys sorted.
    var description: String {
        switch self {
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .number(let n): n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        case .string(let s): JSON.quoted(s)
        case .array(let items): "[" + items.map(\.description).joined(separator: ",") + "]"
        case .object(let members):
            "{" + members.keys.sorted().map { "\(JSON.string($0)):\(members[$0] ?? .null)" }.joined(separator: ",") + "}"
        }
    }
}
