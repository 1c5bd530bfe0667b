/// The recursive-descent parser behind ``JSONDocument``. Reads a buffer that stays valid for the
/// parser's lifetime; positions it reports are offset by `base` (the slice's start index).
struct JSONParser {
    private let bytes: UnsafeBufferPointer<UInt8>
    private let base: Int
    private let maxDepth: Int
    private var index = 0
    private var depth = 0
    /// Reused buffer for strings that contain escapes.
    private var scratch: [UInt8] = []

    init(_ bytes: UnsafeBufferPointer<UInt8>, base: Int, maxDepth: Int) {
        self.bytes = bytes
        self.base = base
        self.maxDepth = maxDepth
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }
    }

    // MARK: Documents

    /// One value filling the input, white space around it allowed.
    mutating func document() throws(JSONSyntaxError) -> JSONValue {
        skipWhitespace()
        guard index < bytes.count else { throw fail("the input is empty; expected a JSON value") }
        let value = try parseValue()
        skipWhitespace()
        guard index == bytes.count else { throw fail("unexpected \(describe(index)) after the end of the JSON value") }
        return value
    }

    /// A document whose value is an array: its elements with their starting lines and columns.
    mutating func topLevelArray() throws(JSONSyntaxError) -> [JSONArrayElement] {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "[") else {
            throw fail("unexpected \(describe(index)); expected a JSON array")
        }
        guard case .array(let values, _) = try document() else { return [] }
        // Raw line feeds only occur in white space (strings reject control characters), so
        // counting them up to each element's start gives its line.
        var elements: [JSONArrayElement] = []
        elements.reserveCapacity(values.count)
        var line = 1
        var lineStart = 0
        var scanned = 0
        for value in values {
            let start = value.range.lowerBound - base
            while scanned < start {
                if bytes[scanned] == 0x0A {
                    line += 1
                    lineStart = scanned + 1
                }
                scanned += 1
            }
            elements.append(JSONArrayElement(value: value, line: line, column: start - lineStart + 1))
        }
        return elements
    }

    // MARK: Errors

    func fail(_ message: String, at offset: Int? = nil) -> JSONSyntaxError {
        let offset = min(offset ?? index, bytes.count)
        var line = 1
        var lineStart = 0
        for i in 0..<offset where bytes[i] == 0x0A {
            line += 1
            lineStart = i + 1
        }
        return JSONSyntaxError(message: message, offset: base + offset, line: line, column: offset - lineStart + 1)
    }

    /// The byte at `offset` for a message: a quoted character, a hex byte, or end of input.
    func describe(_ offset: Int) -> String {
        guard offset < bytes.count else { return "end of input" }
        let byte = bytes[offset]
        if byte >= 0x20, byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(String(byte, radix: 16, uppercase: true))"
    }

    // MARK: Values

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private func range(from start: Int) -> Range<Int> { base + start..<base + index }

    private mutating func parseValue() throws(JSONSyntaxError) -> JSONValue {
        guard index < bytes.count else { throw fail("unexpected end of input; expected a value") }
        let start = index
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""):
            let text = try parseString()
            return .string(text, range: range(from: start))
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true, range: range(from: start))
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false, range: range(from: start))
        case UInt8(ascii: "n"):
            try literal("null")
            return .null(range: range(from: start))
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try parseNumber()
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            return .number(text, range: range(from: start))
        default:
            throw fail("unexpected \(describe(index)); expected a value")
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
        let count = word.utf8CodeUnitCount
        let matches = index + count <= bytes.count && word.withUTF8Buffer { expected in
            expected.indices.allSatisfy { bytes[index + $0] == expected[$0] }
        }
        guard matches else { throw fail("invalid literal; expected \(word)") }
        index += count
    }

    private mutating func enter() throws(JSONSyntaxError) {
        guard depth < maxDepth else { throw fail("nesting deeper than \(maxDepth) levels") }
        depth += 1
    }

    private mutating func parseObject() throws(JSONSyntaxError) -> JSONValue {
        try enter()
        let start = index
        index += 1
        var members: [JSONMember] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object(members, range: range(from: start))
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw fail("unexpected \(describe(index)); expected a member name in double quotes")
            }
            let name = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw fail("unexpected \(describe(index)); expected ':' after member name \"\(name.prefix(40))\"")
            }
            index += 1
            skipWhitespace()
            members.append(JSONMember(name: name, value: try parseValue()))
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of input; expected ',' or '}'") }
            switch bytes[index] {
            case UInt8(ascii: ","):
                index += 1
            case UInt8(ascii: "}"):
                index += 1
                depth -= 1
                return .object(members, range: range(from: start))
            default:
                throw fail("unexpected \(describe(index)); expected ',' or '}'")
            }
        }
    }

    private mutating func parseArray() throws(JSONSyntaxError) -> JSONValue {
        try enter()
        let start = index
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array(elements, range: range(from: start))
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of input; expected ',' or ']'") }
            switch bytes[index] {
            case UInt8(ascii: ","):
                index += 1
            case UInt8(ascii: "]"):
                index += 1
                depth -= 1
                return .array(elements, range: range(from: start))
            default:
                throw fail("unexpected \(describe(index)); expected ',' or ']'")
            }
        }
    }

    // MARK: Numbers

    private func isDigit(at offset: Int) -> Bool {
        offset < bytes.count && bytes[offset] >= UInt8(ascii: "0") && bytes[offset] <= UInt8(ascii: "9")
    }

    private mutating func skipDigits() {
        while isDigit(at: index) { index += 1 }
    }

    /// Checks `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?` and leaves `index` after it.
    private mutating func parseNumber() throws(JSONSyntaxError) {
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard isDigit(at: index) else { throw fail("invalid number; expected a digit") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if isDigit(at: index) { throw fail("invalid number; leading zeros are not allowed") }
        } else {
            skipDigits()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard isDigit(at: index) else { throw fail("invalid number; expected a digit after '.'") }
            skipDigits()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard isDigit(at: index) else { throw fail("invalid number; expected an exponent digit") }
            skipDigits()
        }
    }

    // MARK: Strings

    /// Parses a string starting at its opening quote; leaves `index` after the closing quote.
    private mutating func parseString() throws(JSONSyntaxError) -> String {
        let open = index
        index += 1
        let contentStart = index
        // Fast path: no escapes, the text is the bytes between the quotes.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = try validated(UnsafeBufferPointer(rebasing: bytes[contentStart..<index]), open: open)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw fail("control character in string; escape it") }
            index += 1
        }
        guard index < bytes.count else { throw fail("unterminated string", at: open) }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[contentStart..<index]))
        var segmentStart = index
        while true {
            guard index < bytes.count else { throw fail("unterminated string", at: open) }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[segmentStart..<index]))
                index += 1
                break
            }
            if byte < 0x20 { throw fail("control character in string; escape it") }
            if byte == UInt8(ascii: "\\") {
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[segmentStart..<index]))
                try parseEscape()
                segmentStart = index
                continue
            }
            index += 1
        }
        let unescaped = scratch
        return try unescaped.withUnsafeBufferPointer { (buffer) throws(JSONSyntaxError) in try validated(buffer, open: open) }
    }

    private func validated(_ utf8: UnsafeBufferPointer<UInt8>, open: Int) throws(JSONSyntaxError) -> String {
        guard let text = String(validating: utf8, as: UTF8.self) else {
            throw fail("string is not valid UTF-8", at: open)
        }
        return text
    }

    /// Parses the escape sequence at `index` (a backslash) and appends what it stands for to `scratch`.
    private mutating func parseEscape() throws(JSONSyntaxError) {
        let escape = index
        index += 1
        guard index < bytes.count else { throw fail("unterminated escape sequence", at: escape) }
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""): scratch.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): scratch.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "/"): scratch.append(UInt8(ascii: "/"))
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if (0xD800...0xDBFF).contains(scalar) {
                let low = index
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    throw fail("unpaired high surrogate in \\u escape", at: escape)
                }
                index += 2
                let second = try hex4()
                guard (0xDC00...0xDFFF).contains(second) else {
                    throw fail("a high surrogate must be followed by a low surrogate", at: low)
                }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (second - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw fail("unpaired low surrogate in \\u escape", at: escape)
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape", at: escape) }
            UTF8.encode(unicode) { scratch.append($0) }
        default:
            let shown = byte >= 0x20 && byte < 0x7F ? "'\\\(Character(Unicode.Scalar(byte)))'" : describe(index - 1)
            throw fail("invalid escape sequence \(shown)", at: escape)
        }
    }

    private mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard index < bytes.count else { throw fail("incomplete \\u escape") }
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw fail("invalid hex digit in \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }
}
