import AccordReliabilityLog
import Foundation
import Testing

@Suite("accord chaos: the real processes crashed over and over lose and double nothing", .serialized)
struct ChaosTests {
    @Test("accord chaos --quick: the projector and every service SIGKILLed mid-ingest, restarted with their own command lines, and every kind of broker fault injected",
          .timeLimit(.minutes(8)))
    func quick() async throws {
        let base = try Ports.block(11)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("accord-e2e-chaos-\(UUID().uuidString.prefix(8))")
        let result = try await runToCompletion(Binaries.path("accord"), [
            "chaos", "--quick", "--port", "\(base)", "--data-dir", folder.appendingPathComponent("data").path,
        ], folder: folder, name: "chaos", timeout: .seconds(420))
        #expect(result.status == 0, "exit status; stdout:\n\(result.stdout)\nstderr:\n\(result.stderr.suffix(4000))")
        let line = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("lost: ") }.map(String.init),
                                "a summary line:\n\(result.stdout)\n\(result.stderr.suffix(3000))")
        #expect(line.hasPrefix("lost: 0, doubled: 0, rebuild differences: 0, audit findings: 0, "), "\(line)")
        #expect(line.contains("projector kills: 3,"), "\(line)")
        #expect(line.contains("service kills: 9,"), "every one of the 9 services was killed once: \(line)")
        #expect(line.hasSuffix("broker faults: 7"), "each of the 7 kinds of broker fault was injected once: \(line)")
        // The events accepted are all journaled, each once.
        let numbers = line.split(separator: ",").reduce(into: [String: Int]()) { out, part in
            let pair = part.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, let n = Int(pair[1]) { out[pair[0]] = n }
        }
        #expect((numbers["accepted"] ?? 0) > 2_000, "\(line)")
        #expect(numbers["accepted"] == numbers["journaled"], "\(line)")
        let outcome = "lost \(numbers["lost"] ?? -1), doubled \(numbers["doubled"] ?? -1), rebuild differences "
            + "\(numbers["rebuild differences"] ?? -1), audit findings \(numbers["audit findings"] ?? -1) "
            + "(\(numbers["accepted"] ?? 0) events accepted, \(numbers["journaled"] ?? 0) journaled)"
        let test = "accord chaos --quick"
        ReliabilityLog.record("projector SIGKILLed mid-ingest, restarted", times: numbers["projector kills"] ?? 0, outcome: outcome, test: test)
        ReliabilityLog.record("agency service SIGKILLed mid-ingest, restarted", times: numbers["service kills"] ?? 0,
                              outcome: outcome, test: test)
        // Each fault the run injected, by kind, as it reported them.
        let faults = result.stderr.split(separator: "\n").compactMap { line -> String? in
            guard let range = line.range(of: "broker fault: "), let end = line.range(of: " (", range: range.upperBound..<line.endIndex) else { return nil }
            return String(line[range.upperBound..<end.lowerBound])
        }
        for (kind, times) in Dictionary(faults.map { ($0, 1) }, uniquingKeysWith: +).sorted(by: { $0.key < $1.key }) {
            ReliabilityLog.record("broker fault: \(kind)", times: times, outcome: outcome, test: test)
        }
        if result.status == 0 { try? FileManager.default.removeItem(at: folder) }
    }
}
