import Foundation
import Testing

extension Tag {
    /// Needs the embedded Kafka broker and the built executables.
    @Tag static var broker: Self
    /// Takes minutes, not seconds.
    @Tag static var slow: Self
}

/// `accord bench --quick` produces a well-formed report. Only the form is checked — never whether
/// a target is met and never any timing: CI runs on a loaded 2-core machine.
@Suite("accord bench --quick", .serialized, .tags(.broker, .slow))
struct BenchQuickTests {
    static let keys: Set<String> = ["figure", "value", "unit", "baseline", "ratio", "target", "met"]

    @Test("every row has exactly the seven keys with finite numbers, and every count adds up",
          .timeLimit(.minutes(30)))
    func quickRunIsWellFormed() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("accord-bench-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let json = folder.appendingPathComponent("bench.json")
        // --quick, made smaller still: CI builds in debug and shares its two cores.
        let (status, stdout, stderr) = try await BenchProcess.run(Binaries.path("accord"), [
            "bench", "--quick", "--events", "2000", "--intake-events", "500", "--freshness-seconds", "1",
            "--load-seconds", "0.3", "--json", json.path, "--work-dir", folder.appendingPathComponent("work").path,
        ], in: folder)
        try #require(status == 0, "accord bench --quick exited with \(status):\n\(stderr.suffix(4_000))")
        #expect(stdout.contains("figure"), "the table is printed")

        let data = try Data(contentsOf: json)
        let objects = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]], "bench.json is an array of objects")
        for object in objects { #expect(Set(object.keys) == Self.keys, "keys of \(object)") }
        // Typed decoding checks the types: numbers are numbers, met is a boolean or null.
        let rows = try JSONDecoder().decode([Row].self, from: data)
        try #require(!rows.isEmpty)
        var byFigure: [String: Double] = [:]
        for row in rows {
            #expect(row.value.isFinite, "\(row.figure): value is finite")
            #expect(row.baseline?.isFinite ?? true, "\(row.figure): baseline is finite or null")
            #expect(row.ratio?.isFinite ?? true, "\(row.figure): ratio is finite or null")
            #expect(!row.unit.isEmpty && !row.target.isEmpty, "\(row.figure): unit and target")
            byFigure[row.figure] = row.value
        }
        let produced = try #require(byFigure["workload records produced (events + checkpoints)"])
        let consumed = try #require(byFigure["records consumed back (raw librdkafka)"])
        #expect(consumed == produced, "records consumed back equal records produced")
        let events = try #require(byFigure["workload events (N)"])
        #expect(byFigure["events applied by the projector"] == events, "the projector applied every event")
        #expect(byFigure["agency service intake events found on Kafka"] != nil)
        #expect(byFigure["freshness events sent and in the view"] != nil)
        #expect(rows.contains { $0.figure.hasPrefix("query p99 case lookup") })
    }

    struct Row: Decodable {
        let figure: String
        let value: Double
        let unit: String
        let baseline: Double?
        let ratio: Double?
        let target: String
        let met: Bool?
    }
}

/// Where `swift build` put the executables: beside the test binary, or the package's `.build/debug`.
enum Binaries {
    static let folder: URL = {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        if FileManager.default.isExecutableFile(atPath: besideTests.appendingPathComponent("accord").path) {
            return besideTests
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug").resolvingSymlinksInPath()
    }()

    static func path(_ name: String) -> URL { folder.appendingPathComponent(name) }
}

/// Runs a command to completion, collecting stdout and stderr (each into a file, so no pipe fills up).
enum BenchProcess {
    static func run(_ executable: URL, _ arguments: [String], in folder: URL) async throws -> (Int32, String, String) {
        let out = folder.appendingPathComponent("stdout.txt"), err = folder.appendingPathComponent("stderr.txt")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        let box = ProcessBox(process)
        let status = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
                process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
                do { try process.run() } catch {
                    process.terminationHandler = nil
                    continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            box.interrupt()
        }
        let stdout = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        return (status, stdout, stderr)
    }
}

/// A process shared with a cancellation handler.
private final class ProcessBox: @unchecked Sendable {
    // @unchecked: Process is safe for isRunning and interrupt from any thread.
    private let process: Process
    init(_ process: Process) { self.process = process }
    func interrupt() { if process.isRunning { process.interrupt() } }
}
