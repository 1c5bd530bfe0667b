import AccordEvents
import AccordProcesses
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure of the end-to-end harness, with what was observed.
struct E2EError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Where `swift build` put the executables the tests run.
enum Binaries {
    /// The folder of the test binary (same as `accord demo` finds its siblings), or the
    /// package's `.build/debug` when the executables are not next to it.
    static let folder: URL = {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        if FileManager.default.isExecutableFile(atPath: besideTests.appendingPathComponent("accord").path) {
            return besideTests
        }
        // Tests/AccordEndToEndTests/Support/Harness.swift → package root.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug").resolvingSymlinksInPath()
    }()

    static func path(_ name: String) -> URL { folder.appendingPathComponent(name) }
}

/// Free TCP ports on 127.0.0.1, chosen from 20000–31999 (below Linux's ephemeral range and
/// away from the demo's default 8080–8089), never handed out twice in one test run.
enum Ports {
    private static let handedOut = Mutex<Set<Int>>([])

    /// Whether 127.0.0.1:`port` can be bound now (nobody listens on it).
    static func isFree(_ port: Int) -> Bool {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return result == 0
    }

    /// The first of `count` consecutive free ports.
    static func block(_ count: Int) throws -> Int {
        for _ in 0..<500 {
            let base = Int.random(in: 20_000...(32_000 - count))
            let range = Set(base..<(base + count))
            let claimed = handedOut.withLock { taken -> Bool in
                guard taken.isDisjoint(with: range) else { return false }
                guard range.allSatisfy(isFree) else { return false }
                taken.formUnion(range)
                return true
            }
            if claimed { return base }
        }
        throw E2EError("found no block of \(count) free ports in 20000-31999")
    }

    /// One free port.
    static func one() throws -> Int { try block(1) }
}

/// Polls `probe` until it returns a value or `timeout` passes; the error names `what` and
/// the last observation `probe` reported through `note`.
func eventually<T>(_ what: String, timeout: Duration = .seconds(30), every interval: Duration = .milliseconds(100),
                   _ probe: (_ note: inout String) async throws -> T?) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    var note = "nothing observed"
    while true {
        do {
            if let value = try await probe(&note) { return value }
        } catch {
            note = "\(error)"
        }
        if ContinuousClock.now >= deadline { break }
        try await Task.sleep(for: interval)
    }
    throw E2EError("timed out after \(timeout) waiting for \(what); last: \(note)")
}

/// The JSON object at `url` (with its status).
func getJSON(_ url: String) async throws -> (status: Int, object: [String: Any]) {
    let response = try await HTTPProbe.get(url)
    guard let object = try? response.json() as? [String: Any] else {
        throw E2EError("GET \(url): \(response.status), not a JSON object: \(response.text.prefix(300))")
    }
    return (response.status, object)
}

/// The `events` count of a projector's `/health` answer (a number; older builds sent a string).
func eventCount(_ health: [String: Any]) -> Int? {
    if let count = health["events"] as? Int { return count }
    return (health["events"] as? String).flatMap(Int.init)
}

/// The answer's `items` (list answers) as objects.
func items(_ object: [String: Any]) -> [[String: Any]] {
    object["items"] as? [[String: Any]] ?? []
}

/// A command run to completion: its exit status and what it printed.
struct CommandResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs `executable` with `arguments` until it exits (stdout and stderr go to files in
/// `folder`); past `timeout` it and every process it started are killed and an error is thrown.
func runToCompletion(_ executable: URL, _ arguments: [String], folder: URL, name: String,
                     timeout: Duration) async throws -> CommandResult {
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let out = folder.appendingPathComponent("\(name).stdout")
    let err = folder.appendingPathComponent("\(name).stderr")
    _ = FileManager.default.createFile(atPath: out.path, contents: nil)
    _ = FileManager.default.createFile(atPath: err.path, contents: nil)
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = try FileHandle(forWritingTo: out)
    process.standardError = try FileHandle(forWritingTo: err)
    try process.run()
    let deadline = ContinuousClock.now + timeout
    while process.isRunning && ContinuousClock.now < deadline {
        try await Task.sleep(for: .milliseconds(50))
    }
    let read = { (url: URL) in (try? String(contentsOf: url, encoding: .utf8)) ?? "" }
    if process.isRunning {
        let pid = process.processIdentifier
        let children = ProcessTree.descendants(of: pid)
        kill(pid, SIGKILL)
        for child in children { kill(child, SIGKILL) }
        // Not waitUntilExit: Foundation on Linux can miss a child's exit and spin for ever.
        throw E2EError("\(name) did not finish within \(timeout) (killed it and \(children.count) child processes)\nstdout:\n\(read(out).suffix(2000))\nstderr:\n\(read(err).suffix(3000))")
    }
    process.waitUntilExit()
    return CommandResult(status: process.terminationStatus, stdout: read(out), stderr: read(err))
}

/// Child processes, read from /proc.
enum ProcessTree {
    /// Every process whose ancestry includes `pid` (children first found, then theirs).
    static func descendants(of pid: Int32) -> [Int32] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var parents: [Int32: Int32] = [:]
        for entry in entries {
            guard let child = Int32(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            // After "pid (comm)": state, ppid, …
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let parent = Int32(fields[1]) { parents[child] = parent }
        }
        var result: [Int32] = []
        var frontier = [pid]
        while let next = frontier.popLast() {
            let children = parents.filter { $0.value == next }.map(\.key)
            result += children
            frontier += children
        }
        return result
    }
}
