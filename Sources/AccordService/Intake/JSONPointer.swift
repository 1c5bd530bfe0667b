/// Converts codec field paths (`data.requirements[0].hours`) to RFC 6901 JSON Pointers.
enum JSONPointer {
    /// Escapes one reference token (`~` → `~0`, `/` → `~1`).
    static func escape(_ token: String) -> String {
        guard token.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return token }
        var escaped = ""
        escaped.reserveCapacity(token.utf8.count + 4)
        for character in token {
            switch character {
            case "~": escaped += "~0"
            case "/": escaped += "~1"
            default: escaped.append(character)
            }
        }
        return escaped
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
        pointer(prefix + tokens(ofField: field))
    }

    /// A pointer made of the given tokens.
    static func pointer(_ tokens: [String]) -> String {
        var pointer = ""
        for token in tokens {
            pointer.append("/")
            pointer.append(escape(token))
        }
        return pointer
    }
}
