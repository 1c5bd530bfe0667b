import AccordFuzzing
import AccordJSON
import Testing

/// The parser every HTTP body and every event's data goes through, fuzzed with a fixed budget:
/// mutated event bodies and documents, with bytes and tokens that break parsers.
@Suite("JSON parser under fuzzed input")
struct ParserFuzzTests {
    static let seeds: [[UInt8]] = [
        #"{"specversion":"1.0","type":"org.accord.probation.case-opened.v1","id":"0b0c9a52-5f54-4bde-9b43-1f1f8f1f2a10","time":"2025-03-03T09:00:00Z","data":{"caseId":"X100001","area":"london-north","tier":"B2","riskLevel":"medium","requirements":[{"type":"unpaid-work","hours":120}]}}"#,
        #"[{"type":"a","data":{}},{"type":"b","data":{"n":-1.5e3,"s":"\u00e9\ud83d\ude00\n\"","t":true,"f":false,"z":null}}]"#,
        #"{"a":{"b":[{"c":1,"c":2}]},"a":3,"deep":[[[[[[[[[[0]]]]]]]]]]}"#,
        "  \n\t[ 12345678901234567890 , 0.000001 , 1E+2 , \"\" , { } , [ ] ]  ",
        "\"just a string\"", "0", "null",
    ].map { Array($0.utf8) }

    static let mutator = ByteMutator(seeds: seeds, dictionary: [",", ":", "}", "]", "\"data\":", "\"type\":", " "].map { Array($0.utf8) },
                                     maxLength: 16 * 1024)

    /// Kept cases, run before the generated ones on every run: edge cases chosen by hand, and any
    /// input the fuzzer finds that breaks a property.
    static let regressions: [String] = [
        "base64:" + "WyJcdWQ4MDAiXQ==", // ["\ud800"]: a lone surrogate escape
        "base64:" + "77u/", // a byte order mark and nothing else
    ]

    @Test("any bytes: a value whose compact form parses to itself, or an error located inside the input")
    func parse() async {
        await fuzz("json-parse", what: "bytes to the JSON parser (mutated event bodies)",
                   checks: "every value re-parses to itself, every error is located inside the input", count: 3_000, input: Self.mutator.generator, regressions: Self.regressions) { input in
            let value: JSONValue
            do throws(JSONSyntaxError) {
                value = try JSONDocument.parse(input.bytes)
            } catch {
                #expect(!error.message.isEmpty, "\(input)")
                #expect(error.offset >= 0 && error.offset <= input.bytes.count, "offset \(error.offset) outside \(input)")
                #expect(error.line >= 1 && error.column >= 1, "\(error) for \(input)")
                return .refused
            }
            #expect(value.range.lowerBound >= 0 && value.range.upperBound <= input.bytes.count, "\(input)")
            let compact = value.compactBytes
            let again = try JSONDocument.parse(compact)
            #expect(again.compactBytes == compact, "compact form is not a fixpoint for \(input)")
            return .accepted
        }
    }

    @Test("any bytes as a batch: each element's range holds exactly that element")
    func elements() async {
        await fuzz("json-elements", what: "bytes to the JSON batch splitter",
                   checks: "each element's range holds exactly that element", count: 2_000, input: Self.mutator.generator) { input in
            guard let elements = try? JSONDocument.elements(ofArray: input.bytes) else { return .refused }
            for element in elements {
                #expect(element.range.lowerBound >= 0 && element.range.upperBound <= input.bytes.count, "\(input)")
                let alone = try JSONDocument.parse(input.bytes[element.range])
                #expect(alone.compactBytes == element.value.compactBytes, "element at \(element.range) of \(input)")
                #expect(element.line >= 1 && element.column >= 1, "\(input)")
            }
            return .accepted
        }
    }
}
