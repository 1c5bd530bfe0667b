import Foundation

/// `accord audit rebuild --from journal` and `accord audit verify` on the projector's store, timed
/// as whole processes.
enum AuditFigures {
    /// Runs both audits on `store` (the projector stopped), whose journal holds `events` events.
    static func run(_ context: BenchContext, store: URL, registry: URL, events: Int) async throws -> [BenchRow] {
        let rebuilt = context.path("audit-rebuild.sqlite")
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: rebuilt.path + suffix) }
        context.progress.say("audit: accord audit rebuild --from journal (\(events) events)")
        let rebuildOutput = context.path("audit-rebuild.txt")
        let rebuild = try await context.processes.runToCompletion("audit-rebuild", "accord", [
            "audit", "rebuild", "--store", store.path, "--from", "journal", "--quiet", "--output", rebuilt.path,
        ], output: rebuildOutput)
        let rebuildText = (try? String(contentsOf: rebuildOutput, encoding: .utf8)) ?? ""
        guard rebuild.status == 0 else {
            throw BenchError("accord audit rebuild exited with \(rebuild.status):\n\(rebuildText.prefix(2_000))")
        }
        if let applied = appliedCount(in: rebuildText), applied != events {
            throw BenchError("accord audit rebuild applied \(applied) events; the journal should hold \(events)")
        }
        context.progress.say("audit: accord audit verify")
        let verifyOutput = context.path("audit-verify.txt")
        let verify = try await context.processes.runToCompletion("audit-verify", "accord", [
            "audit", "verify", "--store", store.path, "--key-registry", registry.path,
        ], output: verifyOutput)
        guard verify.status == 0 else {
            let text = (try? String(contentsOf: verifyOutput, encoding: .utf8)) ?? ""
            throw BenchError("accord audit verify exited with \(verify.status):\n\(text.prefix(2_000))")
        }
        return [
            try BenchRow("accord audit rebuild --from journal", Double(events) / rebuild.seconds, "events/s",
                         target: .atLeast(100_000, "events/s")),
            try BenchRow("accord audit verify", Double(events) / verify.seconds, "events/s",
                         target: .atLeast(150_000, "events/s")),
        ]
    }

    /// The `N events applied` count of the rebuild summary, if it prints one.
    static func appliedCount(in text: String) -> Int? {
        guard let range = text.range(of: " events applied") else { return nil }
        let digits = text[..<range.lowerBound].reversed().prefix { $0.isNumber }
        return Int(String(digits.reversed()))
    }
}
