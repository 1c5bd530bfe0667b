import Foundation
import Synchronization

/// The rows of `docs/reliability.md`: each test that attacks Accord with a fault or a hostile
/// input records what it tried, how many times, and the outcome it measured. `scripts/test` points
/// `ACCORD_RELIABILITY_LOG` at a file, runs the suite, and renders the table from the rows once
/// every test has passed; without the variable nothing is recorded.
public enum ReliabilityLog {
    private static let lock = Mutex(())

    /// One row as JSON.
    struct Row: Encodable {
        let fault: String
        let times: Int
        let outcome: String
        let test: String
    }

    /// Records that `test` tried `fault` `times` times, with `outcome` (measured, not assumed:
    /// "lost 0, doubled 0", "dead-lettered unknown-source; applied 0").
    public static func record(_ fault: String, times: Int, outcome: String, test: String) {
        guard let path = ProcessInfo.processInfo.environment["ACCORD_RELIABILITY_LOG"], !path.isEmpty,
              let json = try? JSONEncoder().encode(Row(fault: fault, times: times, outcome: outcome, test: test)) else { return }
        lock.withLock { _ in
            // Rows are best effort: a test that cannot write its row still passes or fails on its
            // own assertions, and a missing row shows in the table as a fault not tried.
            if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
            guard let handle = FileHandle(forWritingAtPath: path) else { return }
            defer { try? handle.close() }
            _ = try? handle.seekToEnd()
            try? handle.write(contentsOf: json + Data("\n".utf8))
        }
    }
}
