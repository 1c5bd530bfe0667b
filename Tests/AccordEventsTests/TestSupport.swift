import AccordEvents
import Foundation
import Testing

/// Paths and helpers shared by the AccordEvents tests.
enum Support {
    /// The package root, found from this file's path (Tests/AccordEventsTests/TestSupport.swift).
    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var schemasDir: URL { repoRoot.appendingPathComponent("schemas") }

    static let codec = EventCodec()

    static let t0 = Timestamp(rfc3339: "2025-03-03T09:00:00Z")!

    /// A fixed, fully specified case-closed event used for exact-byte checks.
    static func fixedCaseClosed() -> AccordEvent {
        AccordEvent(
            id: UUID(uuidString: "3F2B8C1E-9A4D-4E7B-8C2A-1D5E6F708192")!,
            source: EventSource(urn: "urn:accord:probation:nps-london")!,
            time: Timestamp(rfc3339: "2025-03-03T09:00:00.250Z")!,
            sequence: 42,
            payload: CaseClosed(caseId: "X123456", outcome: .completed).payload,
            correlationId: "corr-1")
    }

    /// A valid binary message for the kind, plus the topic it belongs on.
    static func message(_ kind: EventKind = .caseOpened, subjectIndex: Int = 123_456) throws -> (BinaryMessage, String) {
        let event = EventSamples.event(kind, subject: EventSamples.subject(for: kind, index: subjectIndex),
                                       sequence: 3, time: t0)
        return (try codec.encodeBinary(event), kind.topic.name)
    }

    /// Replaces (or adds, or with nil removes) every header with the name.
    static func setting(_ name: String, _ value: String?, in message: BinaryMessage) -> BinaryMessage {
        var m = message
        let had = m.headers.contains { $0.name == name }
        m.headers.removeAll { $0.name == name }
        if let value {
            _ = had
            m.headers.append(MessageHeader(name: name, text: value))
        }
        return m
    }

    /// Decodes expecting failure; returns the error (records an issue if decoding succeeded).
    static func decodeError(_ message: BinaryMessage, topic: String, codec: EventCodec = Support.codec,
                            sourceLocation: SourceLocation = #_sourceLocation) -> EventError? {
        do {
            let event = try codec.decodeBinary(message, topic: topic)
            Issue.record("expected a decoding error, decoded \(event.type)", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error
        }
    }

    /// Runs a command, returning exit status and combined output.
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        process.currentDirectoryURL = repoRoot
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Fails the calling test unless python3 can import the schema tooling.
    static func requirePythonTooling(sourceLocation: SourceLocation = #_sourceLocation) throws -> Bool {
        let probe = try run("python3", ["-c", "import jsonschema, referencing, yaml"])
        if probe.status != 0 {
            Issue.record("""
                python3 cannot import jsonschema / referencing / yaml, so the schema agreement check cannot run.
                Run the test command's setup first: python3 -m pip install jsonschema pyyaml
                \(probe.output)
                """, sourceLocation: sourceLocation)
            return false
        }
        return true
    }

    static func temporaryDirectory(_ name: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("accord-events-\(name)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}
