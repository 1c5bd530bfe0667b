import AccordJSON
import Testing

@Suite("Elements of a top-level array (bulk input)")
struct ArrayElementTests {
    @Test("each element with its range, starting line and column")
    func elements() throws {
        let text = "[\n {\"a\":1},\n  2, \"x\",\n\n [ ]\n]"
        let elements = try JSONDocument.elements(ofArray: Array(text.utf8))
        #expect(elements.map(\.range) == [3..<10, 14..<15, 17..<20, 24..<27])
        #expect(elements.map(\.line) == [2, 3, 3, 5])
        #expect(elements.map(\.column) == [2, 3, 6, 2])
        #expect(elements.map(\.value.typeName) == ["object", "number", "string", "array"])
        #expect(elements[0].value["a"] == .number("1", range: 8..<9))
    }

    @Test("an empty array, white space and a byte order mark")
    func edges() throws {
        #expect(try JSONDocument.elements(ofArray: Array(" [ ] ".utf8)).isEmpty)
        let bom = try JSONDocument.elements(ofArray: [0xEF, 0xBB, 0xBF] + Array("[7,\n8]".utf8))
        #expect(bom.map(\.range) == [4..<5, 7..<8])
        #expect(bom.map(\.line) == [1, 2])
        #expect(bom.map(\.column) == [5, 1])
    }

    @Test("strings with escaped line breaks do not move the line count")
    func escapedNewlines() throws {
        let elements = try JSONDocument.elements(ofArray: Array("[\"a\\nb\\nc\",\n\"d\"]".utf8))
        #expect(elements.map(\.line) == [1, 2])
    }

    @Test("anything but an array is refused where it starts")
    func notAnArray() throws {
        for (text, column) in [("{\"a\":1}", 1), ("  7", 3), ("", 1), ("\"[\"", 1)] {
            do {
                _ = try JSONDocument.elements(ofArray: Array(text.utf8))
                Issue.record("expected an error for \(text)")
            } catch {
                #expect(error.column == column, "\(text)")
                #expect(error.message.contains("expected a JSON array"), "\(error.message)")
            }
        }
    }

    @Test("a syntax error anywhere refuses the whole array, located by line and column")
    func brokenElement() throws {
        do {
            _ = try JSONDocument.elements(ofArray: Array("[1,\n{\"a\":}\n]".utf8))
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 2)
            #expect(error.column == 6)
        }
        #expect(throws: JSONSyntaxError.self) { try JSONDocument.elements(ofArray: Array("[1] [2]".utf8)) }
        #expect(throws: JSONSyntaxError.self) { try JSONDocument.elements(ofArray: Array("[[[1]]]".utf8), maxDepth: 2) }
    }
}
