import AccordEvents
import AccordHTTPClient
import AccordSimulation
import ArgumentParser
import Foundation
import Synchronization

/// `accord publish`: sends one event or a bulk file (NDJSON, CSV) through an agency service's
/// HTTP intake, in batches, and reports what was accepted and rejected, by input line.
struct PublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish events through an agency service's HTTP intake (POST /v1/events).",
        discussion: """
        INPUT is a file or - for stdin: one submission object {"type", "data", "time"?, "id"?, \
        "correlationid"?, "causationid"?} or a JSON array of them (.json), NDJSON with one per line \
        (.ndjson, .jsonl), or CSV with a header row (.csv): columns type, time, id, correlationid, \
        causationid, and data fields — plain (caseId) or dotted for nesting \
        (data.serviceLevels.referralResponseDays). CSV cells that are JSON numbers, booleans, arrays, \
        objects or quoted JSON strings are used as such, other cells as text; empty cells are omitted.

        Without --service or --agency each event goes to its owner's service on 127.0.0.1 \
        (probation :8081, interventions :8082, commissioner :8083), found from its type. Events \
        without an id get one, so retries are idempotent. A rejected batch does not stop the rest: \
        its valid events are sent again and only the bad lines are reported. While a service is \
        unavailable (503 while it starts or its outbox is full, other 5xx, a restart) each request \
        is retried with back-off, honouring Retry-After, for --retry-for seconds.

        Exit status: 0 all accepted, 1 some rejected, 2 usage or I/O error (unreadable input, \
        service unreachable).
        """
    )

    @Option(help: "Intake URL of an agency service, e.g. http://127.0.0.1:8081 (path /v1/events is added when absent).")
    var service: String?

    @Option(help: "Agency whose local service receives every event: probation (:8081), interventions (:8082), commissioner (:8083).")
    var agency: AgencyChoice?

    @Option(help: "Input format: json, ndjson or csv (default: from the file extension, else from the content).")
    var format: FormatChoice?

    @Option(help: "Events per request.")
    var batchSize: Int = 500

    @Option(help: "Seconds to wait for each HTTP response.")
    var timeout: Double = 30

    @Option(help: ArgumentHelp("Seconds to keep retrying a request while the service is unavailable (503, other 5xx, 429, connection lost or refused after it was reached), with back-off; then give up.", valueName: "seconds"))
    var retryFor: Double = 120

    @Flag(help: "No progress display.")
    var quiet = false

    @Argument(help: "Input file, or - for stdin (the default).")
    var input: String = "-"

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard (1...10_000).contains(batchSize) else { throw ValidationError("--batch-size must be 1...10000, got \(batchSize)") }
        guard timeout > 0, timeout <= 3_600 else { throw ValidationError("--timeout must be in (0, 3600] seconds") }
        guard retryFor >= 0, retryFor <= 86_400 else { throw ValidationError("--retry-for must be in [0, 86400] seconds, got \(retryFor)") }
        if service != nil && agency != nil { throw ValidationError("give either --service or --agency, not both") }
        if let service, Intake.url(service) == nil {
            throw ValidationError("--service \"\(service)\" is not an http(s) URL such as http://127.0.0.1:8081")
        }
    }

    func run() async throws {
        logging.bootstrap()
        let bytes: [UInt8]
        switch readInput() {
        case .success(let read): bytes = read
        case .failure(let error): fail(error.message)
        }
        let fmt = format?.bulk ?? BulkFormat.detect(path: input == "-" ? nil : input, content: bytes)
        let parsed = BulkInput.parse(bytes, format: fmt)
        var report = PublishReport()
        for error in parsed.errors { report.reject(line: error.line, error.message) }
        if parsed.items.isEmpty && parsed.errors.isEmpty { fail("no events in \(inputName)") }

        // Route every item to a service, in input order.
        var routes: [(url: URL, agency: String, items: [BulkItem])] = []
        for item in parsed.items {
            let target: (URL, String)
            if let service, let url = Intake.url(service) {
                target = (url, service)
            } else if let agency {
                target = (Intake.defaultURL(agency.kind), agency.kind.rawValue)
            } else if let owner = Intake.owner(ofType: item.type) {
                target = (Intake.defaultURL(owner), owner.rawValue)
            } else {
                report.reject(line: item.line, "unknown event type \"\(item.type.prefix(80))\"; give --agency or --service to send it anyway")
                continue
            }
            let withId = item.withId(UUID())
            if let i = routes.firstIndex(where: { $0.url == target.0 }) {
                routes[i].items.append(withId)
            } else {
                routes.append((target.0, target.1, [withId]))
            }
        }

        let total = routes.reduce(0) { $0 + $1.items.count }
        let progress = quiet || total < batchSize ? nil : ProgressBar(total: total, label: "publishing")
        let client = Intake(timeout: timeout, retryFor: .milliseconds(Int64(retryFor * 1_000)))
        var done = 0
        for route in routes {
            var start = 0
            while start < route.items.count {
                let batch = Array(route.items[start..<min(start + batchSize, route.items.count)])
                if let failure = await client.publish(batch, to: route.url, report: &report) {
                    progress?.finish(note: "stopped")
                    var unsent = route.items[start...].map(\.line)
                    if let r = routes.firstIndex(where: { $0.url == route.url }) {
                        for later in routes[(r + 1)...] { unsent += later.items.map(\.line) }
                    }
                    report.print()
                    fail("\(failure.message)\n\(unsent.count) events not sent (\(PublishReport.lineRanges(unsent)))")
                }
                start += batch.count
                done += batch.count
                progress?.update(done, note: report.rejected.isEmpty ? nil : "\(report.rejected.count) rejected")
            }
        }
        progress?.finish(note: report.rejected.isEmpty ? nil : "\(report.rejected.count) rejected")
        report.print()
        if !report.rejected.isEmpty { throw ExitCode(1) }
    }

    private var inputName: String { input == "-" ? "stdin" : input }

    private func readInput() -> Result<[UInt8], UsageFailure> {
        if input == "-" {
            if isatty(STDIN_FILENO) == 1 {
                return .failure(UsageFailure("no input: give a FILE, or pipe events to stdin (see accord publish --help)"))
            }
            return .success(Array(FileHandle.standardInput.readDataToEndOfFile()))
        }
        do {
            return .success(Array(try Data(contentsOf: URL(fileURLWithPath: input))))
        } catch {
            let reason = (error as NSError).localizedFailureReason ?? error.localizedDescription
            return .failure(UsageFailure("cannot read \(input): \(reason)"))
        }
    }

    private func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("accord publish: \(message)\n".utf8))
        Foundation.exit(2)
    }
}

/// A usage or I/O problem that ends the command with status 2.
struct UsageFailure: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// `--agency` values.
enum AgencyChoice: String, ExpressibleByArgument, CaseIterable {
    case probation, interventions, commissioner

    var kind: AgencyKind {
        switch self {
        case .probation: .probation
        case .interventions: .interventions
        case .commissioner: .commissioner
        }
    }
}

/// `--format` values.
enum FormatChoice: String, ExpressibleByArgument, CaseIterable {
    case json, ndjson, csv

    var bulk: BulkFormat {
        switch self {
        case .json: .json
        case .ndjson: .ndjson
        case .csv: .csv
        }
    }
}

/// Accepted and rejected counts, with the reasons by input line.
struct PublishReport {
    var accepted = 0
    var rejected: [(line: Int, reason: String)] = []

    mutating func reject(line: Int, _ reason: String) {
        rejected.append((line, reason))
    }

    /// Prints the summary on stdout: counts, then each rejected line (the first 200).
    func print() {
        var out = "accepted \(accepted), rejected \(rejected.count)\n"
        let sorted = rejected.sorted { $0.line < $1.line }
        for r in sorted.prefix(200) { out += "  line \(r.line): \(r.reason)\n" }
        if sorted.count > 200 { out += "  … and \(sorted.count - 200) more\n" }
        FileHandle.standardOutput.write(Data(out.utf8))
    }

    /// `3-7, 9, 12-20`.
    static func lineRanges(_ lines: [Int]) -> String {
        let sorted = lines.sorted()
        var parts: [String] = []
        var i = 0
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count && sorted[j + 1] == sorted[j] + 1 { j += 1 }
            parts.append(i == j ? "line \(sorted[i])" : "lines \(sorted[i])-\(sorted[j])")
            i = j + 1
        }
        return parts.prefix(20).joined(separator: ", ") + (parts.count > 20 ? ", …" : "")
    }
}

/// The HTTP side: posts batches to `/v1/events` and sorts the answer into accepted and rejected lines.
struct Intake {
    /// Why publishing cannot go on (service unreachable, unavailable or not an Accord intake).
    struct Failure: Error, Sendable {
        let message: String
    }

    /// How long one request may take.
    let timeout: Duration
    /// How long one request is retried while the service is unavailable (a note goes to stderr
    /// when the retrying starts and when the service answers again, also with --quiet).
    let retryFor: Duration
    /// Intake URLs that have answered at least once: connection refused by one of them is a
    /// restart to wait for, by any other a service that is not running.
    private let reached = ReachedServices()
    /// Asked before each retry: false stops retrying (the demo, stopping on Ctrl-C).
    let keepRetrying: @Sendable () -> Bool

    init(timeout: Double, retryFor: Duration = .seconds(120), keepRetrying: @escaping @Sendable () -> Bool = { true }) {
        self.timeout = .milliseconds(Int64(max(0.1, timeout) * 1_000))
        self.retryFor = retryFor
        self.keepRetrying = keepRetrying
    }

    static func defaultURL(_ agency: AgencyKind) -> URL {
        let port = switch agency {
        case .probation: 8081
        case .interventions: 8082
        case .commissioner: 8083
        }
        return URL(string: "http://127.0.0.1:\(port)/v1/events") ?? URL(fileURLWithPath: "/")
    }

    /// An http(s) URL for the intake; `/v1/events` is appended when the path is empty or `/`.
    static func url(_ text: String) -> URL? {
        guard var components = URLComponents(string: text),
              let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
              components.host?.isEmpty == false else { return nil }
        if components.path.isEmpty || components.path == "/" { components.path = "/v1/events" }
        return components.url
    }

    /// The agency kind that owns a full (`org.accord.probation.case-opened.v1`) or short (`case-opened`) type.
    static func owner(ofType type: String) -> AgencyKind? {
        if let kind = EventKind(type: type) { return kind.owner }
        if let kind = EventKind.allCases.first(where: { $0.name == type }) { return kind.owner }
        let families: [(String, AgencyKind)] = [
            ("org.accord.probation.", .probation), ("org.accord.interventions.", .interventions),
            ("org.accord.commissioning.", .commissioner), ("org.accord.police.", .commissioner),
        ]
        return families.first { type.hasPrefix($0.0) }?.1
    }

    /// Publishes `items` as one batch; when the service rejects the batch, re-sends the valid
    /// items (or halves of the batch) so that only the bad lines end up rejected.
    /// Returns why publishing cannot go on, or nil.
    func publish(_ items: [BulkItem], to url: URL, report: inout PublishReport) async -> Failure? {
        guard !items.isEmpty else { return nil }
        var body: [UInt8] = [UInt8(ascii: "[")]
        for (i, item) in items.enumerated() {
            if i > 0 { body.append(UInt8(ascii: ",")) }
            body.append(contentsOf: item.json)
        }
        body.append(UInt8(ascii: "]"))
        let status: Int, data: Data
        switch await post(Data(body), to: url) {
        case .success(let answer): (status, data) = answer
        case .failure(let failure): return failure
        }
        switch status {
        case 200..<300:
            report.accepted += items.count
            return nil
        case 422:
            let problem = try? JSONDecoder().decode(Problem.self, from: data)
            var bad: [Int: [String]] = [:]
            for error in problem?.errors ?? [] {
                guard let index = error.index, items.indices.contains(index) else { continue }
                bad[index, default: []].append(error.text)
            }
            if bad.isEmpty {
                return await split(items, to: url, report: &report, reason: problem?.summary ?? "rejected (422)")
            }
            for (index, reasons) in bad { report.reject(line: items[index].line, reasons.joined(separator: "; ")) }
            let rest = items.indices.filter { bad[$0] == nil }.map { items[$0] }
            return await publish(rest, to: url, report: &report)
        case 400, 413:
            let problem = try? JSONDecoder().decode(Problem.self, from: data)
            return await split(items, to: url, report: &report,
                               reason: problem?.summary ?? (status == 413 ? "too large (413)" : "malformed (400)"))
        case 415:
            return Failure(message: "\(url.absoluteString) refused the content type (415): \(Problem.text(data))")
        default:
            return Failure(message: "\(url.absoluteString) answered \(status): \(Problem.text(data))")
        }
    }

    /// Sends the halves separately; a single item that fails this way is rejected with `reason`.
    private func split(_ items: [BulkItem], to url: URL, report: inout PublishReport, reason: String) async -> Failure? {
        if items.count == 1 {
            report.reject(line: items[0].line, reason)
            return nil
        }
        let middle = items.count / 2
        if let failure = await publish(Array(items[..<middle]), to: url, report: &report) { return failure }
        return await publish(Array(items[middle...]), to: url, report: &report)
    }

    /// POSTs, retrying on 503, other 5xx, 429 and lost connections with exponential back-off
    /// (0.25 s doubling to 5 s, or the service's `Retry-After` when it gives one) for up to
    /// `retryFor`. Connection refused by a service never reached is not retried: it is not running.
    private func post(_ body: Data, to url: URL) async -> Result<(Int, Data), Failure> {
        let headers = [("Content-Type", "application/json"), ("Accept", "application/json, application/problem+json")]
        let bytes = [UInt8](body)
        let deadline = ContinuousClock.now + retryFor
        var lastProblem = ""
        var attempts = 0
        var noted = false
        while true {
            attempts += 1
            var wait = Duration.milliseconds(min(250 << min(attempts - 1, 5), 5_000))
            do throws(HTTPCallError) {
                let answer = try await HTTPCall.send("POST", url.absoluteString, headers: headers, body: bytes, timeout: timeout)
                let status = answer.status
                reached.insert(url)
                guard status >= 500 || status == 0 || status == 429 else {
                    if noted { FileHandle.standardError.write(Data("accord publish: \(url.absoluteString) answers again\n".utf8)) }
                    return .success((status, answer.body))
                }
                lastProblem = "answered \(status): \(Problem.text(answer.body))"
                if let retryAfter = answer.header("Retry-After").flatMap(Double.init), retryAfter >= 0 {
                    wait = .milliseconds(Int64(min(retryAfter, 30) * 1_000))
                }
            } catch {
                if error.kind == .cancelled {
                    return .failure(Failure(message: "\(url.absoluteString): publishing was cancelled"))
                }
                lastProblem = "cannot be reached: \(error.message)"
                if error.kind == .connectionRefused, !reached.contains(url) {
                    return .failure(Failure(message: "\(url.absoluteString) cannot be reached (connection refused); is the service running?"))
                }
            }
            let now = ContinuousClock.now
            guard keepRetrying() else {
                return .failure(Failure(message: "\(url.absoluteString) \(lastProblem) (stopped retrying: stopping)"))
            }
            guard now + wait <= deadline else {
                return .failure(Failure(message: "\(url.absoluteString) \(lastProblem) (gave up after \(attempts) attempts in \(Self.seconds(retryFor)) s; --retry-for sets how long)"))
            }
            if !noted {
                noted = true
                FileHandle.standardError.write(Data("accord publish: \(url.absoluteString) \(lastProblem); retrying for up to \(Self.seconds(retryFor)) s\n".utf8))
            }
            try? await Task.sleep(for: wait)
        }
    }

    private static func seconds(_ duration: Duration) -> String {
        let s = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return s == s.rounded() ? "\(Int(s))" : String(format: "%.1f", s)
    }
}

/// The intake URLs that have answered, shared by the requests of one run.
final class ReachedServices: Sendable {
    private let urls = Mutex<Set<URL>>([])

    func insert(_ url: URL) { urls.withLock { _ = $0.insert(url) } }
    func contains(_ url: URL) -> Bool { urls.withLock { $0.contains(url) } }
}

/// An `application/problem+json` answer.
struct Problem: Decodable {
    struct Item: Decodable {
        let index: Int?
        let pointer: String?
        let field: String?
        let message: String?

        var text: String {
            let place = field ?? pointer
            return [place, message].compactMap { $0 }.joined(separator: ": ")
        }
    }

    let title: String?
    let status: Int?
    let detail: String?
    let errors: [Item]?

    var summary: String {
        [title, detail].compactMap { $0 }.joined(separator: ": ")
    }

    /// A problem's summary, or the start of the body as text.
    static func text(_ data: Data) -> String {
        if let problem = try? JSONDecoder().decode(Problem.self, from: data), !problem.summary.isEmpty {
            return problem.summary
        }
        let text = String(decoding: data.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "(no body)" : text
    }
}
