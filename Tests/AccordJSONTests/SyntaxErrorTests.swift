import AccordJSON
import Testing

/// One malformed input and where its error must point.
struct Malformed: Sendable, CustomTestStringConvertible {
    let text: String
    let line: Int
    let column: Int
    let message: String

    init(_ text: String, _ line: Int, _ column: Int, _ message: String) {
        self.text = text
        self.line = line
        self.column = column
        self.message = message
    }

    var testDescription: String { text.debugDescription }
}

@Suite("Syntax errors: the class of problem, its line and column")
struct SyntaxErrorTests {
    @Test("each class of error is refused at the right place", arguments: [
        // Structure
        Malformed("", 1, 1, "empty"),
        Malformed("   \n  ", 2, 3, "empty"),
        Malformed("[1, 2,]", 1, 7, "unexpected ']'; expected a value"),
        Malformed(#"{"a": 1,}"#, 1, 9, "expected a member name"),
        Malformed("[1,\n2,\n]", 3, 1, "expected a value"),
        Malformed("[1,,2]", 1, 4, "expected a value"),
        Malformed("[1 2]", 1, 4, "expected ',' or ']'"),
        Malformed(#"{"a":1 "b":2}"#, 1, 8, "expected ',' or '}'"),
        Malformed(#"{"a" 1}"#, 1, 6, "expected ':'"),
        Malformed("{a:1}", 1, 2, "expected a member name in double quotes"),
        Malformed("['a']", 1, 2, "expected a value"),
        Malformed("[1", 1, 3, "unexpected end of input; expected ',' or ']'"),
        Malformed(#"{"a":1"#, 1, 7, "unexpected end of input; expected ',' or '}'"),
        Malformed(#"{"a":"#, 1, 6, "unexpected end of input; expected a value"),
        Malformed("{} x", 1, 4, "after the end of the JSON value"),
        Malformed("{\"a\":1}// comment", 1, 8, "after the end of the JSON value"),
        Malformed("{}\n{}", 2, 1, "after the end of the JSON value"),
        // Literals
        Malformed("[tru]", 1, 2, "invalid literal; expected true"),
        Malformed("nul", 1, 1, "invalid literal; expected null"),
        Malformed("False", 1, 1, "expected a value"),
        Malformed("{\n  \"a\": tru\n}", 2, 8, "invalid literal; expected true"),
        // Numbers
        Malformed("[01]", 1, 3, "leading zeros are not allowed"),
        Malformed("-012", 1, 3, "leading zeros are not allowed"),
        Malformed("-", 1, 2, "expected a digit"),
        Malformed("-a", 1, 2, "expected a digit"),
        Malformed("1.", 1, 3, "expected a digit after '.'"),
        Malformed("1.e5", 1, 3, "expected a digit after '.'"),
        Malformed("1e", 1, 3, "expected an exponent digit"),
        Malformed("1e+", 1, 4, "expected an exponent digit"),
        Malformed(".5", 1, 1, "unexpected '.'; expected a value"),
        Malformed("+1", 1, 1, "unexpected '+'; expected a value"),
        Malformed("0x10", 1, 2, "after the end of the JSON value"),
        // Strings
        Malformed("\"abc", 1, 1, "unterminated string"),
        Malformed("[\"a\\\"]", 1, 2, "unterminated string"),
        Malformed("\"a\tb\"", 1, 3, "control character in string"),
        Malformed("\"line\nbreak\"", 1, 6, "control character in string"),
        Malformed("\"esc \\n then \u{1}\"", 1, 14, "control character in string"),
        Malformed(#""a\qb""#, 1, 3, "invalid escape sequence '\\q'"),
        Malformed(#""\x41""#, 1, 2, "invalid escape sequence"),
        Malformed(#""\u12G4""#, 1, 6, "invalid hex digit"),
        Malformed(#""\ud800""#, 1, 2, "unpaired high surrogate"),
        Malformed(#""x\ud83d y""#, 1, 3, "unpaired high surrogate"),
        Malformed(#""\udc00""#, 1, 2, "unpaired low surrogate"),
        Malformed(#""\ude00\ud83d""#, 1, 2, "unpaired low surrogate"),
        Malformed(#""\ud800\u0041""#, 1, 8, "must be followed by a low surrogate"),
        Malformed(#""\ud800\ud800""#, 1, 8, "must be followed by a low surrogate"),
        // The intake's example: a stray comma inside data.
        Malformed("{\n  \"type\": \"referral-accepted\",\n  \"data\": {,}\n}", 3, 12, "expected a member name"),
    ])
    func malformed(_ input: Malformed) throws {
        let error = try #require(syntaxError(input.text))
        #expect(error.line == input.line)
        #expect(error.column == input.column)
        #expect(error.message.contains(input.message), "\(error.message)")
    }

    @Test("an unterminated \\u escape at the end of input")
    func truncatedUnicodeEscape() throws {
        let error = try #require(syntaxError("\"\\u12"))
        #expect(error.column == 6)
        #expect(error.message.contains("incomplete \\u escape"))
        let escape = try #require(syntaxError("\"\\"))
        #expect(escape.column == 2)
        #expect(escape.message.contains("unterminated escape"))
    }

    @Test("bytes that are not UTF-8")
    func invalidUTF8() throws {
        let inString = try #require(syntaxError([0x5B, 0x22, 0x61, 0xFF, 0x22, 0x5D]))
        #expect(inString.column == 2)
        #expect(inString.message.contains("not valid UTF-8"))
        let overlong = try #require(syntaxError([0x22, 0xC0, 0xAF, 0x22]))
        #expect(overlong.message.contains("not valid UTF-8"))
        let bare = try #require(syntaxError([0xFF]))
        #expect(bare.message == "unexpected byte 0xFF; expected a value")
    }

    @Test("offset, line and column count bytes; a byte order mark is part of line 1")
    func positions() throws {
        let multibyte = try #require(syntaxError("{\"é\": tru}"))
        #expect(multibyte.offset == 7)
        #expect(multibyte.column == 8)
        let bom = try #require(syntaxError([0xEF, 0xBB, 0xBF] + Array("{\"a\":tru}".utf8)))
        #expect(bom.offset == 8)
        #expect(bom.column == 9)
        let crlf = try #require(syntaxError("[\r\n1,\r\n x]"))
        #expect(crlf.line == 3)
        #expect(crlf.column == 2)
    }

    @Test("errors describe themselves with line and column")
    func description() throws {
        let error = try #require(syntaxError("{\n  \"a\": tru\n}"))
        #expect(error.description == "line 2, column 8: invalid literal; expected true")
        #expect(error == JSONSyntaxError(message: "invalid literal; expected true", offset: 9, line: 2, column: 8))
    }
}

@Suite("Nesting depth limit")
struct DepthTests {
    func nested(_ depth: Int, inner: String = "") -> String {
        String(repeating: "[", count: depth) + inner + String(repeating: "]", count: depth)
    }

    @Test("the default limit accepts 128 levels and refuses 129 at the offending bracket")
    func defaultLimit() throws {
        #expect(JSONDocument.defaultMaxDepth == 128)
        #expect(syntaxError(nested(128, inner: "1")) == nil)
        let error = try #require(syntaxError(nested(129)))
        #expect(error.offset == 128)
        #expect(error.column == 129)
        #expect(error.message == "nesting deeper than 128 levels")
    }

    @Test("objects and arrays both count; scalars do not")
    func customLimit() throws {
        #expect(syntaxError(#"{"a":[1]}"#, maxDepth: 2) == nil)
        let error = try #require(syntaxError(#"{"a":{"b":{}}}"#, maxDepth: 2))
        #expect(error.column == 11)
        #expect(error.message == "nesting deeper than 2 levels")
        #expect(syntaxError("\"scalar\"", maxDepth: 0) == nil)
        #expect(syntaxError("[]", maxDepth: 0)?.column == 1)
        #expect(syntaxError(nested(64), maxDepth: 64) == nil)
        #expect(syntaxError(nested(65), maxDepth: 64)?.column == 65)
    }

    @Test("hostile nesting is refused, not a crash")
    func hostile() {
        #expect(syntaxError(String(repeating: "[", count: 100_000)) != nil)
        #expect(syntaxError(String(repeating: "{\"a\":", count: 100_000)) != nil)
        #expect(throws: JSONSyntaxError.self) { try JSONDocument.parse(Array(repeating: UInt8(ascii: "["), count: 10_000)) }
    }
}
