/// Hand-written matchers for the identifier patterns the JSON Schemas declare, kept
/// allocation-free because the projector runs them for every event. Each mirrors one
/// `$defs` entry of `schemas/common.v1.schema.json`.
enum Patterns {
    /// `^[A-Z][0-9]{6}$` — a pseudonymous case reference.
    static func isCaseId(_ s: String) -> Bool {
        let u = s.utf8
        guard u.count == 7 else { return false }
        var first = true
        for c in u {
            if first {
                guard c >= 65, c <= 90 else { return false }
                first = false
            } else {
                guard c >= 48, c <= 57 else { return false }
            }
        }
        return true
    }

    /// `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$` — any other identifier (contract, provider, referral ...).
    static func isIdentifier(_ s: String) -> Bool {
        let u = s.utf8
        guard (1...64).contains(u.count) else { return false }
        var first = true
        for c in u {
            let alnum = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
            if first {
                guard alnum else { return false }
                first = false
            } else {
                guard alnum || c == 46 || c == 95 || c == 45 else { return false }
            }
        }
        return true
    }

    /// `^[a-z][a-z0-9-]{0,47}$` — a code such as an area, team or offence category.
    static func isCode(_ s: String) -> Bool {
        let u = s.utf8
        guard (1...48).contains(u.count) else { return false }
        var first = true
        for c in u {
            let lower = c >= 97 && c <= 122
            if first {
                guard lower else { return false }
                first = false
            } else {
                guard lower || (c >= 48 && c <= 57) || c == 45 else { return false }
            }
        }
        return true
    }

    /// `^[a-z0-9][a-z0-9-]{0,62}$` — the agency id inside a source URN.
    static func isAgencyId(_ s: String) -> Bool {
        let u = s.utf8
        guard (1...63).contains(u.count) else { return false }
        var first = true
        for c in u {
            let ok = (c >= 97 && c <= 122) || (c >= 48 && c <= 57)
            if first {
                guard ok else { return false }
                first = false
            } else {
                guard ok || c == 45 else { return false }
            }
        }
        return true
    }

    /// 1...`max` Unicode code points (JSON Schema `minLength: 1`, `maxLength: max`),
    /// and not only white space.
    static func isText(_ s: String, max: Int) -> Bool {
        var count = 0
        var hasVisible = false
        for scalar in s.unicodeScalars {
            count += 1
            if count > max { return false }
            if !scalar.properties.isWhitespace { hasVisible = true }
        }
        return count >= 1 && hasVisible
    }

    /// An extension attribute value such as a correlation id: 1–128 printable ASCII characters
    /// (`^[!-~]{1,128}$`).
    static func isToken(_ s: String) -> Bool {
        let u = s.utf8
        guard (1...128).contains(u.count) else { return false }
        for c in u where c < 33 || c > 126 { return false }
        return true
    }
}

/// Collects the path prefix and throws `EventError`s for semantic rules on `data`.
/// Each rule mirrors a keyword in the payload's JSON Schema.
struct Check {
    /// The path of the object being checked, e.g. `data` or `data.requirements[2]`.
    let path: String

    init(_ path: String = "data") { self.path = path }

    func at(_ name: String) -> String { "\(path).\(name)" }

    func child(_ name: String) -> Check { Check(at(name)) }

    func index(_ name: String, _ i: Int) -> Check { Check("\(path).\(name)[\(i)]") }

    func fail(_ name: String, _ message: String) -> EventError {
        EventError(.invalidValue, field: at(name), message)
    }

    func caseId(_ value: String, _ name: String = "caseId") throws(EventError) {
        guard Patterns.isCaseId(value) else {
            throw fail(name, "\"\(value.prefix(40))\" is not a case reference; expected ^[A-Z][0-9]{6}$")
        }
    }

    func identifier(_ value: String, _ name: String) throws(EventError) {
        guard Patterns.isIdentifier(value) else {
            throw fail(name, "\"\(value.prefix(40))\" is not an identifier; expected ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
        }
    }

    func code(_ value: String, _ name: String) throws(EventError) {
        guard Patterns.isCode(value) else {
            throw fail(name, "\"\(value.prefix(40))\" is not a code; expected ^[a-z][a-z0-9-]{0,47}$")
        }
    }

    func text(_ value: String, _ name: String, max: Int = 500) throws(EventError) {
        guard Patterns.isText(value, max: max) else {
            throw fail(name, "expected non-blank text of 1 to \(max) characters")
        }
    }

    /// `minimum` / `exclusiveMinimum` and `maximum` on a number.
    func number(_ value: Double, _ name: String, above: Double? = nil, atLeast: Double? = nil,
                atMost: Double? = nil) throws(EventError) {
        guard value.isFinite else { throw fail(name, "expected a finite number") }
        if let above, !(value > above) { throw fail(name, "\(value) must be greater than \(above)") }
        if let atLeast, !(value >= atLeast) { throw fail(name, "\(value) must be at least \(atLeast)") }
        if let atMost, !(value <= atMost) { throw fail(name, "\(value) must be at most \(atMost)") }
    }

    /// `minimum` and `maximum` on an integer.
    func integer(_ value: Int, _ name: String, atLeast: Int? = nil, atMost: Int? = nil) throws(EventError) {
        if let atLeast, value < atLeast { throw fail(name, "\(value) must be at least \(atLeast)") }
        if let atMost, value > atMost { throw fail(name, "\(value) must be at most \(atMost)") }
    }
}
