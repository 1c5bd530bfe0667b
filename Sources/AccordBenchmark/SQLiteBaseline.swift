import Foundation
import GRDB

/// The raw SQLite baseline: the workload's records inserted as key / headers / value blobs, one
/// transaction per batch, through one cached prepared statement, into a WAL-mode database
/// opened with GRDB's defaults (as the projector's store is).
enum SQLiteBaseline {
    /// What the insert run did.
    struct Result: Sendable {
        /// Rows inserted.
        let rows: Int
        /// Seconds for all transactions.
        let seconds: Double
    }

    /// Inserts every record of `workload` into a new database at `path`. Blocking.
    static func insert(_ workload: Workload, path: URL, batch: Int) throws -> Result {
        try? FileManager.default.removeItem(at: path)
        let pool = try DatabasePool(path: path.path)
        defer { try? pool.close() }
        try pool.write { db in
            try db.execute(sql: "CREATE TABLE records (id INTEGER PRIMARY KEY, key BLOB, headers BLOB NOT NULL, value BLOB NOT NULL)")
        }
        let records = workload.records
        let size = max(1, batch)
        let start = Monotonic.now()
        var index = 0
        while index < records.count {
            let end = min(records.count, index + size)
            let slice = records[index..<end]
            try pool.write { db in
                let statement = try db.cachedStatement(sql: "INSERT INTO records (key, headers, value) VALUES (?, ?, ?)")
                for record in slice {
                    try record.withParts { key, value, headers in
                        try statement.execute(arguments: [Data(key), Data(headers), Data(value)])
                    }
                }
            }
            index = end
        }
        let seconds = Monotonic.seconds(from: start, to: Monotonic.now())
        let rows = try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM records") ?? 0 }
        guard rows == records.count else { throw BenchError("SQLite baseline: \(rows) rows stored of \(records.count)") }
        return Result(rows: rows, seconds: seconds)
    }
}

/// The kcat baseline: a third-party librdkafka client reading every agency topic from the
/// beginning to its end, one topic after another.
enum KcatBaseline {
    /// What kcat read.
    struct Result: Sendable {
        /// Records read.
        let records: Int
        /// Seconds, all topics together.
        let seconds: Double
    }

    /// The kcat executable on PATH, if installed.
    static func executable() -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            for name in ["kcat", "kafkacat"] {
                let candidate = URL(fileURLWithPath: String(folder)).appendingPathComponent(name)
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            }
        }
        return nil
    }

    /// Reads every topic of `workload` with records from `bootstrap`; one byte of output per record. Blocking.
    static func consume(_ kcat: URL, bootstrap: String, workload: Workload) throws -> Result {
        var counts: [String: Int] = [:]
        for record in workload.records { counts[workload.topics[record.topicIndex].name, default: 0] += 1 }
        var records = 0
        var seconds = 0.0
        for (topic, expected) in counts.sorted(by: { $0.key < $1.key }) {
            let process = Process()
            process.executableURL = kcat
            process.arguments = ["-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-q", "-f", "."]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            process.standardInput = FileHandle.nullDevice
            let start = Monotonic.now()
            try process.run()
            var read = 0
            let handle = pipe.fileHandleForReading
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                read += chunk.count
            }
            process.waitUntilExit()
            seconds += Monotonic.seconds(from: start, to: Monotonic.now())
            guard process.terminationStatus == 0 else { throw BenchError("kcat exited with \(process.terminationStatus) on \(topic)") }
            guard read == expected else { throw BenchError("kcat read \(read) records of \(topic), expected \(expected)") }
            records += read
        }
        return Result(records: records, seconds: seconds)
    }
}
