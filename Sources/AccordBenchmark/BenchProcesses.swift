import AccordProcesses
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Every child process the benchmark starts, so each one is stopped when a step ends, fails,
/// or the benchmark is interrupted.
public final class BenchProcesses: Sendable {
    /// The folder of the executables (`projector`, `probation-service`, `accord`, …).
    public let binaries: URL
    /// The folder the processes' logs go to.
    public let logs: URL
    private let running = Mutex<[ChildProcess]>([])
    private let launched = Atomic<Int>(0)

    /// Creates a registry launching executables from `binaries`, logging into `logs`.
    public init(binaries: URL, logs: URL) {
        self.binaries = binaries
        self.logs = logs
    }

    /// Starts `executable` with `arguments`; its stderr goes to `logs/<name>-<n>.log`.
    public func launch(_ name: String, _ executable: String, _ arguments: [String]) throws -> ChildProcess {
        let number = launched.add(1, ordering: .relaxed).newValue
        let process = try ChildProcess(name: name, executable: binaries.appendingPathComponent(executable),
                                       arguments: arguments,
                                       logFile: logs.appendingPathComponent("\(number)-\(name).log"))
        running.withLock { $0.append(process) }
        return process
    }

    /// Stops one process (SIGTERM, then SIGKILL after `grace`) and forgets it; returns its exit status.
    @discardableResult
    public func stop(_ process: ChildProcess, grace: Duration = .seconds(30)) async -> Int32 {
        let status = await process.stop(grace: grace)
        running.withLock { $0.removeAll { $0 === process } }
        return status
    }

    /// Stops every process still running, newest first.
    public func stopAll(grace: Duration = .seconds(10)) async {
        let all = running.withLock { processes in
            defer { processes.removeAll() }
            return processes
        }
        for process in all.reversed() { await process.stop(grace: grace) }
    }

    /// Runs `executable` to completion, stdout into `output` (or discarded), stderr into a log;
    /// returns the exit status and the wall time in seconds. It is killed if the calling task is cancelled.
    public func runToCompletion(_ name: String, _ executable: String, _ arguments: [String],
                                output: URL? = nil) async throws -> (status: Int32, seconds: Double) {
        let number = launched.add(1, ordering: .relaxed).newValue
        let process = Process()
        process.executableURL = binaries.appendingPathComponent(executable)
        process.arguments = arguments
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let log = logs.appendingPathComponent("\(number)-\(name).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: log)
        if let output {
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: output)
        } else {
            process.standardOutput = FileHandle.nullDevice
        }
        process.standardInput = FileHandle.nullDevice
        let box = ProcessBox(process)
        let start = Monotonic.now()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<(status: Int32, seconds: Double), any Error>) in
                process.terminationHandler = { finished in
                    continuation.resume(returning: (finished.terminationStatus, Monotonic.seconds(from: start, to: Monotonic.now())))
                }
                do {
                    try process.run()
                } catch {
                    process.terminationHandler = nil
                    continuation.resume(throwing: BenchError("cannot start \(executable): \(error)"))
                }
            }
        } onCancel: {
            box.kill()
        }
    }

    /// The last lines of a process's log, for error messages.
    public func logTail(of process: ChildProcess) -> String { process.logTail(lines: 30) }

    /// A free TCP port on 127.0.0.1 (the kernel's choice, released at once).
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw -> Int32 in
                guard bind(fd, raw, length) == 0 else { return -1 }
                return getsockname(fd, raw, &length)
            }
        }
        guard bound == 0 else { throw BenchError("cannot bind a free port: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A Foundation process shared with a cancellation handler.
private final class ProcessBox: @unchecked Sendable {
    // @unchecked: Process is safe for isRunning and terminate from any thread.
    private let process: Process
    init(_ process: Process) { self.process = process }
    func kill() { if process.isRunning { process.terminate() } }
}
