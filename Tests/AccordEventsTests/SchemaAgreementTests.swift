import AccordEvents
import Foundation
import Testing

/// Proves the Swift types and the JSON Schemas agree, using a real JSON Schema validator
/// (Python `jsonschema`, Draft 2020-12 with format checking) through scripts/schema_check.py.
@Suite("Swift output agrees with the JSON Schemas")
struct SchemaAgreementTests {
    let codec = Support.codec

    /// Events covering every kind and every optional branch (variants 0...3).
    func samples() -> [AccordEvent] {
        var events = EventSamples.oneOfEach()
        for kind in EventKind.allCases {
            for variant in 1...3 {
                events.append(EventSamples.event(kind, subject: EventSamples.subject(for: kind, index: 1000 + variant),
                                                 sequence: Int64(variant), time: Support.t0, variant: variant))
            }
        }
        return events
    }

    func catalogueJSON() throws -> Data {
        let catalogue: [String: Any] = [
            "events": EventKind.allCases.map(\.catalogueEntry),
            "topics": AccordTopic.all.map { ["name": $0.name, "owner": $0.owner?.rawValue ?? NSNull()] as [String: Any] },
        ]
        return try JSONSerialization.data(withJSONObject: catalogue, options: [.sortedKeys, .prettyPrinted])
    }

    @Test func swiftOutputForEveryKindIsValidAndCatalogueIsConsistent() throws {
        guard try Support.requirePythonTooling() else { return }
        let dir = try Support.temporaryDirectory("valid")
        defer { try? FileManager.default.removeItem(at: dir) }
        let events = samples()
        #expect(Set(events.map(\.kind)) == Set(EventKind.allCases))
        for (i, event) in events.enumerated() {
            let name = "\(String(format: "%03d", i))-\(event.kind.name).json"
            try Data(try codec.encodeStructured(event)).write(to: dir.appendingPathComponent(name))
        }
        let catalogue = dir.appendingPathComponent("catalogue.json.txt")
        try catalogueJSON().write(to: catalogue)
        let result = try Support.run("python3", [
            "scripts/schema_check.py", "--schemas", Support.schemasDir.path, "--valid", dir.path,
            "--catalogue", catalogue.path,
        ])
        #expect(result.status == 0, "schema_check failed:\n\(result.output)")
        #expect(result.output.contains("\(events.count) valid events accepted"), "\(result.output)")
    }

    @Test func everyInvalidExampleIsRejectedByTheSchemas() throws {
        guard try Support.requirePythonTooling() else { return }
        let result = try Support.run("python3", [
            "scripts/schema_check.py", "--schemas", Support.schemasDir.path,
            "--invalid", Support.schemasDir.appendingPathComponent("examples/invalid").path,
            "--valid", Support.schemasDir.appendingPathComponent("examples/valid").path,
        ])
        #expect(result.status == 0, "schema_check failed:\n\(result.output)")
    }

    @Test func theCheckerItselfCatchesAnInvalidEvent() throws {
        guard try Support.requirePythonTooling() else { return }
        // Guards against a checker that accepts everything: a Swift-valid event with one field broken.
        let dir = try Support.temporaryDirectory("broken")
        defer { try? FileManager.default.removeItem(at: dir) }
        let event = EventSamples.event(.unpaidWorkHoursLogged, subject: "X000001", sequence: 1, time: Support.t0)
        let json = String(decoding: try codec.encodeStructured(event), as: UTF8.self)
            .replacingOccurrences(of: #""hours":0.5"#, with: #""hours":0"#)
        #expect(json.contains(#""hours":0,"#) || json.contains(#""hours":0}"#))
        try Data(json.utf8).write(to: dir.appendingPathComponent("broken.json"))
        let result = try Support.run("python3", ["scripts/schema_check.py", "--schemas", Support.schemasDir.path, "--valid", dir.path])
        #expect(result.status == 1)
        #expect(result.output.contains("data.hours"), "\(result.output)")
    }

    struct InvalidExample {
        let file: String
        let description: String
        let expectedField: String
        let expectedReason: String?
        let event: [UInt8]
    }

    static func invalidExamples() throws -> [InvalidExample] {
        let dir = Support.schemasDir.appendingPathComponent("examples/invalid")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") }.sorted()
        return try files.map { file in
            let data = try Data(contentsOf: dir.appendingPathComponent(file))
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(file)")
            let event = try #require(object["event"], "\(file) has no event")
            return InvalidExample(
                file: file, description: object["description"] as? String ?? "",
                expectedField: try #require(object["expectedField"] as? String, "\(file) has no expectedField"),
                expectedReason: object["expectedReason"] as? String,
                event: Array(try JSONSerialization.data(withJSONObject: event)))
        }
    }

    @Test func swiftRejectsEveryInvalidExampleNamingTheExpectedField() throws {
        let examples = try Self.invalidExamples()
        #expect(examples.count >= 12)
        for example in examples {
            do {
                let event = try codec.decodeStructured(example.event)
                Issue.record("\(example.file): Swift accepted \(event.type) (\(example.description))")
            } catch {
                #expect(error.field == example.expectedField, "\(example.file): \(error)")
                if let reason = example.expectedReason {
                    #expect(error.reason.rawValue == reason, "\(example.file): \(error)")
                }
            }
        }
    }

    @Test func committedValidExamplesDecodeInSwiftAndMatchCurrentOutput() throws {
        let dir = Support.schemasDir.appendingPathComponent("examples/valid")
        if ProcessInfo.processInfo.environment["ACCORD_WRITE_EXAMPLES"] == "1" {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            for event in EventSamples.oneOfEach() {
                let pretty = try JSONSerialization.data(
                    withJSONObject: try JSONSerialization.jsonObject(with: Data(try codec.encodeStructured(event))),
                    options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
                try (pretty + Data("\n".utf8)).write(to: dir.appendingPathComponent("\(event.kind.family).\(event.kind.name).v\(event.kind.version).json"))
            }
        }
        let expected = Dictionary(uniqueKeysWithValues: EventSamples.oneOfEach().map { ($0.kind, $0) })
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") }
        #expect(files.count == EventKind.allCases.count,
                "schemas/examples/valid should hold one example per kind; regenerate with ACCORD_WRITE_EXAMPLES=1")
        for file in files {
            let event = try codec.decodeStructured(Array(try Data(contentsOf: dir.appendingPathComponent(file))))
            #expect(event == expected[event.kind], "\(file) differs from EventSamples.oneOfEach(); regenerate with ACCORD_WRITE_EXAMPLES=1")
        }
    }
}
