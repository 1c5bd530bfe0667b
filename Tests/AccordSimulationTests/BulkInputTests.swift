import AccordSimulation
import Foundation
import Testing

@Suite("BulkInput")
struct BulkInputTests {
    func parse(_ text: String, _ format: BulkFormat) -> BulkInput {
        BulkInput.parse(Array(text.utf8), format: format)
    }

    func object(_ item: BulkItem) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(item.json)) as? [String: Any])
    }

    @Test("NDJSON: line numbers, blank lines, CRLF, bad lines reported and skipped")
    func ndjson() throws {
        let text = "{\"type\":\"case-closed\",\"data\":{\"caseId\":\"X123456\",\"outcome\":\"completed\"}}\r\n"
            + "\n"
            + "{\"type\":\"case-closed\",\"data\":{\"caseId\":\"X12\"}\n"
            + "   \n"
            + "[1,2]\n"
            + "{\"data\":{}}\n"
            + "{ \"type\" : \"case-opened\" , \"id\": \"3f2b8c1e-9a4d-4e7b-8c2a-1d5e6f708192\" }"
        let input = parse(text, .ndjson)
        #expect(input.items.map(\.line) == [1, 7])
        #expect(input.items.map(\.type) == ["case-closed", "case-opened"])
        #expect(input.items.map(\.hasId) == [false, true])
        #expect(input.errors.map(\.line) == [3, 5, 6])
        #expect(input.errors[0].message.contains("invalid JSON"))
        #expect(input.errors[2].message.contains("type"))
        #expect(String(decoding: input.items[1].json, as: UTF8.self)
                == "{\"type\":\"case-opened\",\"id\":\"3f2b8c1e-9a4d-4e7b-8c2a-1d5e6f708192\"}")
    }

    @Test("JSON: one object or an array, each element with its starting line")
    func json() {
        let one = parse("\n\n  {\"type\":\"x\",\"data\":{\"a\":\"\\u00e9\\ud83d\\ude00\"}}\n", .json)
        #expect(one.items.map(\.line) == [3])
        #expect(String(decoding: one.items[0].json, as: UTF8.self) == "{\"type\":\"x\",\"data\":{\"a\":\"é😀\"}}")
        let array = parse("[\n {\"type\":\"a\"},\n {\"type\":\"b\"}, 7,\n\n {\"type\":\"c\"}\n]", .json)
        #expect(array.items.map(\.line) == [2, 3, 5])
        #expect(array.errors.map(\.line) == [3])
        let broken = parse("[\n{\"type\":\"a\"},\n{\"type\":}\n]", .json)
        #expect(broken.items.isEmpty)
        #expect(broken.errors.first?.line == 3)
    }

    @Test("CSV: envelope columns, dotted and plain data fields, JSON-typed cells, quoting")
    func csv() throws {
        let text = [
            "type,time,id,correlationid,data.contractId,serviceLevels.referralResponseDays,"
                + "data.serviceLevels.minimumCompletionRate,area,price,note,flag",
            "contract-varied,2025-04-01T09:00:00Z,,corr-1,CT-0001,5,0.75,london-north,"
                + "\"{\"\"amountMinor\"\":100,\"\"currency\"\":\"\"GBP\"\"}\",\"a, \"\"quoted\"\"",
            "two-line text\",true",
            "case-closed,,,,,,,,,\"\"\"0042\"\"\",",
        ].joined(separator: "\r\n")
        let input = parse(text, .csv)
        #expect(input.errors.isEmpty, "\(input.errors)")
        #expect(input.items.map(\.line) == [2, 4])
        let first = try object(input.items[0])
        #expect(first["type"] as? String == "contract-varied")
        #expect(first["time"] as? String == "2025-04-01T09:00:00Z")
        #expect(first["id"] == nil)
        #expect(input.items[0].hasId == false)
        #expect(first["correlationid"] as? String == "corr-1")
        let data = try #require(first["data"] as? [String: Any])
        #expect(data["contractId"] as? String == "CT-0001")
        #expect(data["area"] as? String == "london-north")
        #expect(data["note"] as? String == "a, \"quoted\"\r\ntwo-line text") // line breaks inside quotes are kept
        #expect(data["flag"] as? Bool == true)
        let levels = try #require(data["serviceLevels"] as? [String: Any])
        #expect((levels["referralResponseDays"] as? NSNumber)?.intValue == 5)
        #expect((levels["minimumCompletionRate"] as? NSNumber)?.doubleValue == 0.75)
        #expect((data["price"] as? [String: Any])?["currency"] as? String == "GBP")
        let second = try object(input.items[1])
        #expect((second["data"] as? [String: Any])?["note"] as? String == "0042")
    }

    @Test("CSV: header problems and bad rows name their lines")
    func csvErrors() {
        #expect(parse("time,data.a\n2025,1\n", .csv).errors == [BulkLineError(line: 1, message: "the header needs a \"type\" column")])
        #expect(parse("type,a,data.a\nx,1,2\n", .csv).errors.first?.line == 1)
        #expect(parse("type,a,a.b\nx,1,2\n", .csv).errors.first?.message.contains("overlap") == true)
        let rows = parse("type,a\nx,1\nx,1,2\nx,bad\"quote\nx,\"ok\"\n\nx,\"open\n", .csv)
        #expect(rows.items.map(\.line) == [2, 5])
        #expect(rows.errors.map(\.line) == [3, 4, 7])
    }

    @Test("items get an id only when they have none")
    func withId() throws {
        let id = try #require(UUID(uuidString: "3F2B8C1E-9A4D-4E7B-8C2A-1D5E6F708192"))
        let item = BulkItem(line: 1, json: Array("{\"type\":\"x\"}".utf8), type: "x", hasId: false)
        #expect(String(decoding: item.withId(id).json, as: UTF8.self)
                == "{\"id\":\"3f2b8c1e-9a4d-4e7b-8c2a-1d5e6f708192\",\"type\":\"x\"}")
        let has = BulkItem(line: 1, json: Array("{\"id\":\"a\",\"type\":\"x\"}".utf8), type: "x", hasId: true)
        #expect(has.withId(id) == has)
    }

    @Test("format detection by extension and content")
    func detect() {
        #expect(BulkFormat.detect(path: "a.ndjson", content: []) == .ndjson)
        #expect(BulkFormat.detect(path: "a.JSONL", content: []) == .ndjson)
        #expect(BulkFormat.detect(path: "a.csv", content: []) == .csv)
        #expect(BulkFormat.detect(path: nil, content: Array("{\"a\":1}\n".utf8)) == .json)
        #expect(BulkFormat.detect(path: nil, content: Array("{\"a\":1}\n{\"a\":2}\n".utf8)) == .ndjson)
        #expect(BulkFormat.detect(path: "-", content: Array(" [1]".utf8)) == .json)
        #expect(BulkFormat.detect(path: nil, content: Array("type,a\n".utf8)) == .csv)
    }

    @Test("the simulation's NDJSON reads back one item per submission, line by line")
    func simulationRoundTrip() throws {
        let plan = try Simulation(config: SimulationConfig(cases: 40, seed: 7)).plan()
        let bytes = try SubmissionRenderer().ndjson(plan)
        let input = BulkInput.parse(bytes, format: .ndjson)
        #expect(input.errors.isEmpty)
        #expect(input.items.count == plan.count)
        #expect(input.items.map(\.line) == Array(1...plan.count))
        #expect(zip(input.items, plan).allSatisfy { $0.type == $1.type.type && $0.hasId })
    }
}
