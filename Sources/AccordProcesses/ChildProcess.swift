import Foundation

/// A failure starting or talking to a child process, with what went wrong.
public struct ChildProcessError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public let description: String

    /// Creates an error.
    public init(_ description: String) {
        self.description = description
    }
}

/// One of Accord's executables running as a child process, its stderr going to a log file.
public final class ChildProcess: @unchecked Sendable {
    // @unchecked: Process is thread-safe for the calls made here (isRunning, terminate,
    // waitUntilExit, processIdentifier); the other properties are immutable.

    /// Short name used in messages and as the log file name.
    public let name: String
    /// The log file holding the process's stderr.
    public let logFile: URL
    private let process: Process
    private let output: Pipe

    /// Starts `executable` (a path) with `arguments`; stderr is appended to `logFile`, stdout goes to a pipe.
    public init(name: String, executable: URL, arguments: [String], logFile: URL,
                environment: [String: String]? = nil) throws {
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw ChildProcessError("\(executable.path) is not an executable; build it first (swift build)")
        }
        self.name = name
        self.logFile = logFile
        try FileManager.default.createDirectory(at: logFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        // A restarted process (same name) writes on after its predecessor's last line.
        if !FileManager.default.fileExists(atPath: logFile.path) {
            _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        }
        process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        let log = try FileHandle(forWritingTo: logFile)
        try log.seekToEnd()
        process.standardError = log
        output = Pipe()
        process.standardOutput = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// Whether the process is still running. Foundation on Linux can miss a child's exit (its
    /// `isRunning` then stays true and `waitUntilExit` spins for ever), so the kernel is asked too.
    public var isRunning: Bool { process.isRunning && !Self.hasExited(process.processIdentifier) }

    /// The process id.
    public var processIdentifier: Int32 { process.processIdentifier }

    /// The exit status once the process has exited; `ChildProcess.statusUnknown` when it exited
    /// but Foundation missed it.
    public var exitStatus: Int32? {
        if !process.isRunning { return process.terminationStatus }
        return Self.hasExited(process.processIdentifier) ? Self.statusUnknown : nil
    }

    /// The status reported for a process that exited without Foundation noticing.
    public static let statusUnknown: Int32 = -1

    /// True when `pid` names no process, or a zombie (exited, not yet reaped).
    static func hasExited(_ pid: Int32) -> Bool {
        if Foundation.kill(pid, 0) != 0 { return errno == ESRCH }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    /// Waits until the process has exited (polling, never Foundation's `waitUntilExit`), at most `limit`.
    private func waitForExit(limit: Duration) async {
        let deadline = ContinuousClock.now + limit
        while isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The blocking form of `waitForExit`, for `kill()` and `deinit`.
    private func blockingWaitForExit(limit: Duration) {
        let deadline = ContinuousClock.now + limit
        while isRunning && ContinuousClock.now < deadline { usleep(20_000) }
    }

    /// Reads the first line the process prints on stdout (blocking; call from a thread that may block).
    public func readFirstLine() throws -> String {
        var line = Data()
        while true {
            let byte = output.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty {
                throw ChildProcessError("\(name) exited before printing a line; see \(logFile.path):\n\(logTail())")
            }
            if byte == Data("\n".utf8) { return String(decoding: line, as: UTF8.self) }
            line.append(byte)
        }
    }

    /// Asks the process to stop (SIGTERM) and waits up to `grace`; kills it (SIGKILL) after that.
    /// Returns the exit status.
    @discardableResult
    public func stop(grace: Duration = .seconds(10)) async -> Int32 {
        if isRunning { process.terminate() }
        await waitForExit(limit: grace)
        if isRunning { kill() }
        // A child that has just exited is reaped by Foundation moments later: give it that long.
        let settle = ContinuousClock.now + .seconds(2)
        while process.isRunning && ContinuousClock.now < settle {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return exitStatus ?? Self.statusUnknown
    }

    /// Kills the process at once (SIGKILL), as a crash would, and waits for it to exit.
    public func kill() {
        if isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        blockingWaitForExit(limit: .seconds(10))
    }

    /// The last lines of the process's log.
    public func logTail(lines: Int = 20) -> String {
        let text = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    deinit {
        if isRunning {
            process.terminate()
            blockingWaitForExit(limit: .seconds(10))
        }
    }
}
