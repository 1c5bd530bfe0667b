import Foundation

/// Resident memory of a running process, from `/proc/<pid>/status` (Linux).
public struct ProcessMemory: Sendable, Hashable {
    /// Current resident set size in bytes (VmRSS).
    public let residentBytes: Int
    /// Peak resident set size in bytes (VmHWM).
    public let peakResidentBytes: Int

    /// Reads the memory of process `pid`; nil when it has exited or /proc is not available.
    public static func read(pid: Int32) -> ProcessMemory? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        var rss: Int?, hwm: Int?
        for line in text.split(separator: "\n") {
            if line.hasPrefix("VmRSS:") { rss = kilobytes(line) } else if line.hasPrefix("VmHWM:") { hwm = kilobytes(line) }
        }
        guard let rss, let hwm else { return nil }
        return ProcessMemory(residentBytes: rss * 1024, peakResidentBytes: hwm * 1024)
    }

    private static func kilobytes(_ line: Substring) -> Int? {
        guard let colon = line.firstIndex(of: ":") else { return nil }
        let digits = line[line.index(after: colon)...].drop { !$0.isNumber }.prefix { $0.isNumber }
        return Int(digits)
    }
}
