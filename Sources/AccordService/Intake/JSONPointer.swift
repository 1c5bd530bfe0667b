/// Converts codec field paths (`data.requirements[0].hours`) to RFC 6901 JSON Pointers.
enum JSONPointer {
    /// Escapes one reference token (`~` → `~0`, `/` → `~1`).
    static func escape(_ token: String) -> String {
        token.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }

    /// The tokens of a dotted/bracketed path; `(root)` and the empty path have none.
    static func tokens(ofField field: String) -> [String] {
        guard field != "(root)", !field.isEmpty else { return [] }
        var tokens: [String] = []
        var current = ""
        var inBracket = false
        for character in field {
            switch character {
            case "." where !inBracket:
                if !current.isEmpty { tokens.append(current) }
                current = ""
            case "[" where !inBracket:
                if !current.isEmpty { tokens.append(current) }
                current = ""
                inBracket = true
            case "]" where inBracket:
                tokens.append(current)
                current = ""
                inBracket = false
            default:
                current.append(character)
            }
        }
        if !current.isEmpty { tokens.append(current) }
        return tokens
    }

    /// A pointer made of `prefix` tokens followed by the tokens of `field`.
    static func pointer(prefix: [String], field: String) -> String {
        let all = prefix + tokens(ofField: field)
        return all.map { "/" + escape($0) }.joined()
    }

    /// A pointer made of the given tokens.
    static func pointer(_ tokens: [String]) -> String {
        tokens.map { "/" + escape($0) }.joined()
    }
}
