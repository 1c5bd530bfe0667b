import AccordJSON
import Testing

@Suite("Parsing well-formed JSON")
struct ParsingTests {
    @Test("every kind of value at the top level, with its byte range")
    func scalarsAndEmptyContainers() throws {
        #expect(try parse("null") == .null(range: 0..<4))
        #expect(try parse("true") == .bool(true, range: 0..<4))
        #expect(try parse("false") == .bool(false, range: 0..<5))
        #expect(try parse("42") == .number("42", range: 0..<2))
        #expect(try parse("\"hi\"") == .string("hi", range: 0..<4))
        #expect(try parse("[]") == .array([], range: 0..<2))
        #expect(try parse("{}") == .object([], range: 0..<2))
        #expect(try parse(" \t\r\n [ ] \n") == .array([], range: 5..<8))
    }

    @Test("nested objects and arrays keep order and exact ranges")
    func nested() throws {
        let text = #"{"a":[1,"x",true,null,{}],"b":-2.5e-3}"#
        let expected = JSONValue.object([
            JSONMember(name: "a", value: .array([
                .number("1", range: 6..<7),
                .string("x", range: 8..<11),
                .bool(true, range: 12..<16),
                .null(range: 17..<21),
                .object([], range: 22..<24),
            ], range: 5..<25)),
            JSONMember(name: "b", value: .number("-2.5e-3", range: 30..<37)),
        ], range: 0..<38)
        let value = try parse(text)
        #expect(value == expected)
        #expect(value["b"]?.range == 30..<37)
        #expect(Array(Array(text.utf8)[value["a"]?.range ?? 0..<0]) == Array(#"[1,"x",true,null,{}]"#.utf8))
    }

    @Test("members: names unescaped, duplicates kept in order, lookup finds the first")
    func members() throws {
        let value = try parse(#"{"a\u0062": 1, "dup": 2, "dup": 3}"#)
        guard case .object(let members, _) = value else {
            Issue.record("not an object: \(value)")
            return
        }
        #expect(members.map(\.name) == ["ab", "dup", "dup"])
        #expect(value["dup"] == .number("2", range: 22..<23))
        #expect(value["missing"] == nil)
        #expect(JSONValue.array([])["dup"] == nil)
    }

    @Test("the intake's example: escapes, surrogate pairs, nesting (moved from the service tests)")
    func intakeExample() throws {
        let value = try parse(#"{"s":"a\u00e9\ud83d\ude00","n":-1.5e3,"d":{"x":[true,null]}}"#)
        guard case .object(let members, _) = value else {
            Issue.record("not an object")
            return
        }
        #expect(members.map(\.name) == ["s", "n", "d"])
        #expect(members.first?.value == .string("aé😀", range: 5..<26))
        #expect(value["d"]?["x"] == .array([.bool(true, range: 48..<52), .null(range: 53..<57)], range: 47..<58))
    }

    @Test("numbers are checked and kept exactly as written", arguments: [
        "0", "-0", "7", "42", "-17", "3.25", "-0.5", "1e10", "1E+2", "2e-7", "-2.5e-3", "10.0E05",
        "9223372036854775807", "-9223372036854775809", "123456789012345678901234567890",
        "1e400", "0.000000000000000000000000000001", "3.141592653589793238462643383279",
    ])
    func numbers(_ text: String) throws {
        #expect(try parse(text) == .number(text, range: 0..<text.utf8.count))
        #expect(try parse("[ \(text) ]") == .array([.number(text, range: 2..<2 + text.utf8.count)],
                                                    range: 0..<4 + text.utf8.count))
    }

    @Test("strings: every escape, \\u escapes, surrogate pairs and raw UTF-8")
    func strings() throws {
        let cases: [(String, String)] = [
            (#""""#, ""),
            (#""plain text""#, "plain text"),
            (#""a\"b\\c\/d\b\f\n\r\t""#, "a\"b\\c/d\u{8}\u{C}\n\r\t"),
            (#""\u0041\u00e9\u20AC\ud83d\ude00""#, "Aé€😀"),
            (#""\u0000 and \u001f""#, "\u{0} and \u{1F}"),
            (#""x\u00E9y""#, "xéy"),
            (#""trailing escape\n""#, "trailing escape\n"),
            (#""\\""#, "\\"),
            ("\"héllo wörld 😀 日本\"", "héllo wörld 😀 日本"),
            ("\"mixed é\\t😀\\u00e9\"", "mixed é\t😀é"),
        ]
        for (json, expected) in cases {
            #expect(try parse(json) == .string(expected, range: 0..<json.utf8.count), "\(json)")
        }
    }

    @Test("a UTF-8 byte order mark is skipped; ranges still index the input")
    func byteOrderMark() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("[1]".utf8)
        #expect(try JSONDocument.parse(bytes) == .array([.number("1", range: 4..<5)], range: 3..<6))
    }

    @Test("a slice parses on its own: ranges are indices of the base array, lines start at the slice")
    func slices() throws {
        let bytes = Array("xx\n{\"a\": 1}\nyy".utf8)
        let value = try JSONDocument.parse(bytes[3..<11])
        #expect(value.range == 3..<11)
        #expect(value["a"]?.range == 9..<10)
        let broken = Array("xx\n{\"a\" 1}\nyy".utf8)
        do {
            _ = try JSONDocument.parse(broken[3..<10])
            Issue.record("expected an error")
        } catch {
            #expect(error.offset == 8)
            #expect(error.line == 1)
            #expect(error.column == 6)
        }
    }

    @Test("type names for messages")
    func typeNames() throws {
        let names = try ["{}", "[]", "\"\"", "1", "true", "null"].map { try parse($0).typeName }
        #expect(names == ["object", "array", "string", "number", "boolean", "null"])
    }

    @Test("a large batch parses completely")
    func largeBatch() throws {
        let element = #"{"type":"case-opened","id":"3f2b8c1e-9a4d-4e7b-8c2a-1d5e6f708192","data":{"caseId":"X123456","hours":[1,2,3],"note":"caf\u00e9"}}"#
        let text = "[" + Array(repeating: element, count: 5_000).joined(separator: ",\n") + "]"
        guard case .array(let elements, _) = try parse(text) else {
            Issue.record("not an array")
            return
        }
        #expect(elements.count == 5_000)
        #expect(elements.allSatisfy { $0["data"]?["note"].map(compact) == "\"café\"" })
        #expect(elements.last?.range.upperBound == text.utf8.count - 1)
    }
}
