import AccordJSON
import Testing

@Suite("Compact rendering")
struct WriterTests {
    @Test("parsed values render compactly: order kept, numbers as written, strings re-escaped")
    func roundTrip() throws {
        let text = " { \"b\" : [ 1 , 2.50 , -0 , 1E+400 , \"x\\ny\\u0001\\/é\" ] , \"a\" : { } ,\n \"c\":null,\"d\":true, \"e\" : false } "
        let rendered = compact(try parse(text))
        #expect(rendered == #"{"b":[1,2.50,-0,1E+400,"x\ny\u0001/é"],"a":{},"c":null,"d":true,"e":false}"#)
        #expect(compact(try parse(rendered)) == rendered)
    }

    @Test("string escaping: quotes, backslashes, control characters; other text as UTF-8")
    func strings() {
        var out: [UInt8] = []
        JSONValue.writeString("q\"b\\t\tr\rn\n\u{0}\u{1F}\u{7F} é😀", to: &out)
        #expect(String(decoding: out, as: UTF8.self) == #""q\"b\\t\tr\rn\n\u0000\u001f"# + "\u{7F} é😀\"")
    }

    @Test("values built in code render and have no position")
    func built() {
        let value = JSONValue.object([
            JSONMember(name: "type", value: .string("case-opened")),
            JSONMember(name: "data", value: .object([
                JSONMember(name: "hours", value: .number("12")),
                JSONMember(name: "tags", value: .array([.bool(true), .null()])),
            ])),
        ])
        #expect(compact(value) == #"{"type":"case-opened","data":{"hours":12,"tags":[true,null]}}"#)
        #expect(value.range == 0..<0)
        #expect(value["type"] == .string("case-opened"))
        var out = Array("x=".utf8)
        value["data"]?["tags"]?.writeCompact(to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "x=[true,null]")
    }
}
