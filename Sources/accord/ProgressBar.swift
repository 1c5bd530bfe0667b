import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Progress of a long job on stderr: a redrawn bar with percent, rate and ETA when stderr is a
/// terminal, plain periodic lines otherwise (logs, CI). Use from one task at a time.
final class ProgressBar {
    /// Whether stderr is a terminal.
    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    private var total: Int
    private let label: String
    private let unit: String
    private let interactive: Bool
    private let clock = ContinuousClock()
    private let started: ContinuousClock.Instant
    private var lastDraw: ContinuousClock.Instant?
    private var completed = 0
    private var finished = false

    /// Creates a bar for `total` units of work (e.g. events), labelled `label`.
    /// `interactive` defaults to whether stderr is a terminal.
    init(total: Int, label: String, unit: String = "events", interactive: Bool = ProgressBar.stderrIsTerminal) {
        self.total = max(0, total)
        self.label = label
        self.unit = unit
        self.interactive = interactive
        started = clock.now
    }

    /// Records that `completed` units are done in all; redraws at most ten times a second on a
    /// terminal, every two seconds otherwise. `note` is shown after the numbers (e.g. rejected count).
    func update(_ completed: Int, total newTotal: Int? = nil, note: String? = nil) {
        if let newTotal { total = max(total, newTotal) }
        self.completed = max(0, completed)
        let now = clock.now
        if let lastDraw, now - lastDraw < (interactive ? .milliseconds(100) : .seconds(2)) { return }
        lastDraw = now
        draw(now: now, note: note, final: false)
    }

    /// Draws the final state and ends the line.
    func finish(note: String? = nil) {
        guard !finished else { return }
        finished = true
        draw(now: clock.now, note: note, final: true)
    }

    private func draw(now: ContinuousClock.Instant, note: String?, final: Bool) {
        let elapsed = seconds(now - started)
        let rate = elapsed > 0 ? Double(completed) / elapsed : 0
        let fraction = total > 0 ? Double(completed) / Double(total) : 1
        let percent = Int((fraction * 100).rounded(.down))
        var eta = "--:--"
        if final {
            eta = "done in " + Self.clockText(elapsed)
        } else if rate > 0, total >= completed {
            eta = "ETA " + Self.clockText(Double(total - completed) / rate)
        }
        let numbers = "\(percent)% \(completed)/\(total) \(unit)  \(Self.rateText(rate))/s  \(eta)"
            + (note.map { "  \($0)" } ?? "")
        if interactive {
            let width = 28
            let filled = min(width, Int((fraction * Double(width)).rounded(.down)))
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            write("\r\u{1B}[2K\(label) \(bar) \(numbers)" + (final ? "\n" : ""))
        } else {
            write("\(label): \(numbers)\n")
        }
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    private func seconds(_ d: Duration) -> Double {
        let parts = d.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }

    static func clockText(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--:--" }
        let s = Int(seconds.rounded())
        let two = { (n: Int) in n < 10 ? "0\(n)" : "\(n)" }
        return s >= 3600 ? "\(s / 3600):\(two(s / 60 % 60)):\(two(s % 60))" : "\(s / 60):\(two(s % 60))"
    }

    static func rateText(_ rate: Double) -> String {
        rate >= 10_000 ? "\(Int(rate / 1000))k" : "\(Int(rate.rounded()))"
    }
}
