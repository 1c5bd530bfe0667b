import Foundation
import Testing

/// The build's guard on schema evolution: every published schema version is kept in
/// `schemas/published.lock.json`, and no current file may break the version published under its
/// name. Additive edits pass, but must be recorded in the lock; breaking edits fail and say to add
/// a `.vN+1` instead.
///
/// Recording an additive edit or a new version (refused while any file breaks its published version):
/// `ACCORD_PUBLISH_SCHEMAS=1 swift test --filter SchemaCompatibilityTests`.
@Suite("Schema compatibility with the published versions")
struct SchemaCompatibilityTests {
    static let lockFile = Support.schemasDir.appendingPathComponent("published.lock.json")

    /// Every versioned schema file under `schemas/`, by path relative to it.
    static func currentSchemas() throws -> [String: JSON] {
        let root = Support.schemasDir.standardizedFileURL.path
        var out: [String: JSON] = [:]
        let enumerator = FileManager.default.enumerator(at: Support.schemasDir, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            let path = String(url.standardizedFileURL.path.dropFirst(root.count + 1))
            guard path.range(of: #"\.v[0-9]+\.schema\.json$"#, options: .regularExpression) != nil else { continue }
            out[path] = try JSON.parse(Data(contentsOf: url))
        }
        return out
    }

    /// The published versions recorded in the lock file.
    static func publishedSchemas() throws -> [String: JSON] {
        let lock = try JSON.parse(Data(contentsOf: lockFile))
        guard case .object(let top) = lock, case .object(let schemas)? = top["schemas"] else {
            throw LockError(message: "\(lockFile.lastPathComponent) has no \"schemas\" object")
        }
        return schemas
    }

    struct LockError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    /// Breaking-change reports of `current` against `published`, one per broken or removed file.
    static func violations(published: [String: JSON], current: [String: JSON]) -> [String] {
        var out: [String] = []
        for (file, old) in published.sorted(by: { $0.key < $1.key }) {
            guard let new = current[file] else {
                out.append("\(file) is published and was removed; published versions stay for replay (schemas/README.md, Versioning)")
                continue
            }
            let changes = SchemaCompatibility.breakingChanges(published: old, current: new)
            if !changes.isEmpty { out.append(SchemaCompatibility.report(file: file, changes: changes)) }
        }
        return out
    }

    @Test func noPublishedSchemaVersionIsBroken() throws {
        let current = try Self.currentSchemas()
        #expect(current.count >= 27)
        if ProcessInfo.processInfo.environment["ACCORD_PUBLISH_SCHEMAS"] == "1" {
            let published = (try? Self.publishedSchemas()) ?? [:]
            let broken = Self.violations(published: published, current: current)
            guard broken.isEmpty else {
                Issue.record("not publishing: \(broken.joined(separator: "\n\n"))")
                return
            }
            try Self.writeLock(current)
        }
        let published = try Self.publishedSchemas()
        for violation in Self.violations(published: published, current: try Self.currentSchemas()) {
            Issue.record("\(violation)")
        }
    }

    @Test func everySchemaFileIsRecordedAsPublished() throws {
        // While publishing, `noPublishedSchemaVersionIsBroken` writes the lock and checks it.
        guard ProcessInfo.processInfo.environment["ACCORD_PUBLISH_SCHEMAS"] != "1" else { return }
        let published = try Self.publishedSchemas()
        for (file, schema) in try Self.currentSchemas().sorted(by: { $0.key < $1.key }) {
            if let recorded = published[file] {
                #expect(recorded == schema, """
                    \(file) changed compatibly since it was published; record it: \
                    ACCORD_PUBLISH_SCHEMAS=1 swift test --filter SchemaCompatibilityTests
                    """)
            } else {
                Issue.record("""
                    \(file) is not published yet; record it: ACCORD_PUBLISH_SCHEMAS=1 swift test --filter SchemaCompatibilityTests
                    """)
            }
        }
    }

    static func writeLock(_ schemas: [String: JSON]) throws {
        var text = """
            {
              "description": "Every published Accord schema version, exactly as published. Tests/AccordEventsTests/SchemaCompatibilityTests fails the build when a schema file breaks the version published under its name; additive edits are recorded here with ACCORD_PUBLISH_SCHEMAS=1 swift test --filter SchemaCompatibilityTests.",
              "schemas": {\n
            """
        let files = schemas.keys.sorted()
        for (i, file) in files.enumerated() {
            text += "    \(JSON.string(file)): \((schemas[file] ?? .null).pretty("    "))" + (i == files.count - 1 ? "\n" : ",\n")
        }
        text += "  }\n}\n"
        try Data(text.utf8).write(to: lockFile)
    }

    // MARK: the check itself

    static func caseTransferredV1() throws -> JSON {
        try JSON.parse(Data(contentsOf: Support.schemasDir.appendingPathComponent("events/probation/case-transferred.v1.schema.json")))
    }

    static func common() throws -> JSON {
        try JSON.parse(Data(contentsOf: Support.schemasDir.appendingPathComponent("common.v1.schema.json")))
    }

    /// `schema` with `edit` applied to its JSON text (a broken or extended variant).
    static func variant(_ schema: JSON, _ edit: (String) -> String) throws -> JSON {
        let text = schema.description
        let edited = edit(text)
        #expect(edited != text, "the variant's edit did not apply")
        return try JSON.parse(Data(edited.utf8))
    }

    @Test(arguments: [
        ("a field removed", #","newPractitionerId":{"$ref":"https://accord.example/schemas/common.v1.schema.json#/$defs/identifier","description":"Receiving practitioner, when known."}"#, "",
         "/properties/newPractitionerId: property removed"),
        ("a type changed", #""type":"object""#, #""type":"string""#, "(root): type changed from object to string"),
        ("a new required field", #""required":["caseId","fromArea","toArea"]"#, #""required":["caseId","fromArea","toArea","toProbationId"]"#,
         #"(root): new required property "toProbationId""#),
        ("additionalProperties tightened", #""additionalProperties":false,"#, "", ""),
        ("a reference changed", #"#/$defs/code","description":"Area joined.""#, #"#/$defs/identifier","description":"Area joined.""#,
         "/properties/toArea: $ref changed"),
    ])
    func aBreakingEditToAPublishedEventSchemaFails(what: String, from: String, to: String, expected: String) throws {
        let published = try Self.caseTransferredV1()
        if what == "additionalProperties tightened" {
            // The published v1 is closed already; open a copy, publish that, then close it again.
            let open = try Self.variant(published) { $0.replacingOccurrences(of: from, with: to) }
            let changes = SchemaCompatibility.breakingChanges(published: open, current: published)
            #expect(changes == ["(root): additionalProperties tightened from absent (any) to false"], "\(changes)")
            return
        }
        let broken = try Self.variant(published) { $0.replacingOccurrences(of: from, with: to) }
        let changes = SchemaCompatibility.breakingChanges(published: published, current: broken)
        #expect(changes.contains { $0.hasPrefix(expected) }, "\(what): \(changes)")
        let file = "events/probation/case-transferred.v1.schema.json"
        let failures = Self.violations(published: [file: published], current: [file: broken])
        #expect(failures.count == 1)
        #expect(failures.first?.contains("events/probation/case-transferred.v2.schema.json") == true, "\(failures)")
        #expect(failures.first?.contains(expected) == true, "\(failures)")
    }

    @Test func breakingEditsToSharedDefinitionsFail() throws {
        let published = try Self.common()
        let enumRemoved = try Self.variant(published) { $0.replacingOccurrences(of: #","very-high"]"#, with: "]") }
        #expect(SchemaCompatibility.breakingChanges(published: published, current: enumRemoved)
            == [#"/$defs/riskLevel: enum value "very-high" removed"#])
        let narrowed = try Self.variant(published) { $0.replacingOccurrences(of: #""maxLength":500"#, with: #""maxLength":200"#) }
        #expect(SchemaCompatibility.breakingChanges(published: published, current: narrowed)
            == ["/$defs/text: maxLength lowered from 500 to 200"])
        let repatterned = try Self.variant(published) {
            $0.replacingOccurrences(of: #""pattern":"^[A-Z][0-9]{6}$""#, with: #""pattern":"^[A-Z][0-9]{7}$""#)
        }
        #expect(SchemaCompatibility.breakingChanges(published: published, current: repatterned).first?
            .hasPrefix("/$defs/caseId: pattern changed") == true)
        let removed = try Self.variant(published) {
            $0.replacingOccurrences(of: #""uuid":{"description":"A UUID in 8-4-4-4-12 hex form.","#, with: #""uuidish":{"description":"A UUID in 8-4-4-4-12 hex form.","#)
        }
        #expect(SchemaCompatibility.breakingChanges(published: published, current: removed) == ["/$defs/uuid: definition removed"])
        let removedFile = Self.violations(published: ["common.v1.schema.json": published], current: [:])
        #expect(removedFile.first?.contains("removed") == true)
    }

    @Test func additiveEditsPass() throws {
        let published = try Self.caseTransferredV1()
        let optionalField = try Self.variant(published) {
            $0.replacingOccurrences(of: #""properties":{"#, with: #""properties":{"note":{"type":"string","maxLength":80},"#)
        }
        #expect(SchemaCompatibility.breakingChanges(published: published, current: optionalField).isEmpty)
        let reworded = try Self.variant(published) { $0.replacingOccurrences(of: "Area joined.", with: "The area the case joins.") }
        #expect(SchemaCompatibility.breakingChanges(published: published, current: reworded).isEmpty)
        let common = try Self.common()
        let relaxed = try Self.variant(common) {
            $0.replacingOccurrences(of: #""maxLength":500"#, with: #""maxLength":1000"#)
                .replacingOccurrences(of: #""very-high"]"#, with: #""very-high","extreme"]"#)
                .replacingOccurrences(of: #""$defs":{"#, with: #""$defs":{"region":{"type":"string"},"#)
        }
        #expect(SchemaCompatibility.breakingChanges(published: common, current: relaxed).isEmpty)
        let notRequired = try Self.variant(published) {
            $0.replacingOccurrences(of: #""required":["caseId","fromArea","toArea"]"#, with: #""required":["caseId","toArea"]"#)
        }
        #expect(SchemaCompatibility.breakingChanges(published: published, current: notRequired).isEmpty)
    }

    @Test func unmodelledKeywordChangesCountAsBreaking() throws {
        let published = try JSON.parse(Data(#"{"type":"object","propertyNames":{"pattern":"^[a-z]+$"}}"#.utf8))
        let changed = try JSON.parse(Data(#"{"type":"object","propertyNames":{"pattern":"^[a-z]{1,5}$"}}"#.utf8))
        #expect(SchemaCompatibility.breakingChanges(published: published, current: changed)
            == ["(root): propertyNames changed (this check cannot tell that the change is additive)"])
        let integer = try JSON.parse(Data(#"{"type":"integer","minimum":1}"#.utf8))
        let widened = try JSON.parse(Data(#"{"type":"number","minimum":0}"#.utf8))
        #expect(SchemaCompatibility.breakingChanges(published: integer, current: widened).isEmpty)
        #expect(SchemaCompatibility.breakingChanges(published: widened, current: integer)
            == ["(root): type changed from number to integer", "(root): minimum raised from 0 to 1"])
    }

    @Test func theNextVersionIsNamedInTheReport() {
        #expect(SchemaCompatibility.nextVersionFile("events/probation/case-opened.v1.schema.json")
            == "events/probation/case-opened.v2.schema.json")
        #expect(SchemaCompatibility.nextVersionFile("common.v9.schema.json") == "common.v10.schema.json")
    }
}
