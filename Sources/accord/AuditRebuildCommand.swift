import AccordAudit
import AccordEvents
import AccordProjection
import AccordStore
import ArgumentParser
import Foundation
import Logging

/// `accord audit rebuild`: rebuilds the whole view from scratch beside the live store,
/// compares it with the live store and can swap it in.
struct AuditRebuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Rebuild the whole view from the journal or from Kafka, compare it with the live store, swap it in.",
        discussion: """
        Builds a new store file beside the live one (STORE.rebuild.sqlite) from the live journal, or from
        every agency topic read from its beginning to its end (--from kafka). The live store is read through
        a read-only connection: queries and the projector are never blocked by a rebuild.

        --compare compares the rebuilt rows (case_view, contract_view) and digests with the live store and,
        from Kafka, the events with the live journal. Each live row is compared as of the instant it says it
        describes. Every difference is listed and makes the command fail (exit 1).

        --swap replaces the live store file with the rebuilt one by an atomic rename, keeping the old file as
        STORE.before-rebuild-<time>. STOP THE PROJECTOR FIRST: the swap is refused when the live store is in
        use or its journal moved during the rebuild, and when the rebuild would lose journal events.
        Exit status: 0 done, 1 differences or failure, 2 usage error.
        """
    )

    enum Source: String, ExpressibleByArgument, CaseIterable {
        case journal, kafka
    }

    @Option(help: "The projector's store file.")
    var store: String = "accord-projector.sqlite"

    @Option(help: ArgumentHelp(AreaOfficesOption.help, valueName: "file"))
    var areaOffices: String?

    @Option(help: "Where to rebuild from: journal or kafka.")
    var from: Source = .journal

    @Option(name: .customLong("bootstrap-servers"), help: "Kafka bootstrap servers (with --from kafka; env ACCORD_BOOTSTRAP_SERVERS).")
    var bootstrapServers: String?

    @Option(help: "JSON rules file with accountability thresholds (as given to the projector).")
    var rules: String?

    @Option(help: "Where to write the rebuilt store (default: STORE.rebuild.sqlite).")
    var output: String?

    @ArgumentParser.Flag(help: "Compare the rebuild with the live store; any difference makes the command fail.")
    var compare = false

    @ArgumentParser.Flag(help: "Replace the live store with the rebuild (the projector must be stopped).")
    var swap = false

    @ArgumentParser.Flag(help: "No progress bar.")
    var quiet = false

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap()
        let projectionRules: ProjectionRules
        if let rules {
            do {
                projectionRules = try ProjectionRules(json: Data(contentsOf: URL(fileURLWithPath: rules)))
            } catch {
                usage("rules file \(rules): \(error)")
            }
        } else {
            projectionRules = .defaults
        }
        let upcaster: EventUpcaster
        do {
            upcaster = try AreaOfficesOption.upcaster(areaOffices)
        } catch {
            usage("--area-offices: \(error)")
        }
        guard FileManager.default.fileExists(atPath: store) else { usage("no store at \(store)") }
        let source: RebuildSource
        switch from {
        case .journal:
            if bootstrapServers != nil { usage("--bootstrap-servers is only used with --from kafka") }
            source = .journal
        case .kafka:
            guard let servers = bootstrapServers ?? ProcessInfo.processInfo.environment["ACCORD_BOOTSTRAP_SERVERS"],
                  !servers.isEmpty else {
                usage("--from kafka needs --bootstrap-servers (or ACCORD_BOOTSTRAP_SERVERS)")
            }
            source = .kafka(bootstrapServers: servers)
        }

        var bar: ProgressBar?
        let result: RebuildResult
        do {
            result = try await Rebuild.run(livePath: store, from: source, rules: projectionRules, upcaster: upcaster, compare: compare,
                                           outputPath: output, logger: Logger(label: "accord.audit.rebuild")) { step in
                guard !quiet else { return }
                if bar == nil, step.total >= 1_000 { bar = ProgressBar(total: step.total, label: "rebuilding", unit: "records") }
                bar?.update(step.done, total: step.total)
            }
            bar?.finish()
        } catch {
            bar?.finish(note: "failed")
            fail("\(error)")
        }
        if !result.unheld.isEmpty {
            let records = result.unheld.reduce(Int64(0)) { $0 + $1.until }
            print("the broker no longer holds \(records) record(s) the live store read, in \(result.unheld.count) partition(s) "
                  + "(retention); events there cannot be rebuilt from Kafka and are listed as past-retention:")
            print(result.unheld.map { "  \($0)" }.joined(separator: "\n"))
        }
        print(Self.summary(result))
        var failed = false
        if let comparison = result.comparison {
            print(Self.comparisonText(comparison))
            failed = !comparison.passed
        }
        if swap {
            do {
                let backup = try Rebuild.swap(result)
                print("swapped: \(result.livePath) is now the rebuilt store; the previous file is kept as \(backup)")
            } catch {
                fail("\(error)")
            }
        }
        if failed { throw ExitCode(1) }
    }

    static func summary(_ r: RebuildResult) -> String {
        [
            "rebuilt the view from \(r.source == .journal ? "the journal" : "Kafka") into \(r.outputPath)",
            "  read         \(r.recordsRead) \(r.source == .journal ? "journal entries" : "records")"
                + " (\(r.eventsApplied) events applied, \(r.duplicates) duplicates, \(r.refused.count) refused)",
            "  view         \(r.caseRows) cases, \(r.contractRows) contracts; latest event \(r.latestEventTime?.description ?? "-")",
            "  view digest  \(r.viewDigest)",
        ].joined(separator: "\n")
            + (r.refused.isEmpty ? "" : "\n" + r.refused.prefix(20).map { "  refused      \($0)" }.joined(separator: "\n"))
    }

    static func comparisonText(_ c: RebuildComparison, limit: Int = 200) -> String {
        var lines = [
            "compared with the live store: \(c.subjectsCompared) subjects (case, contract, area, source records), \(c.rowsCompared) serving rows and \(c.eventsCompared) journal events",
            "  view digest  live \(c.liveViewDigest), rebuilt \(c.rebuiltViewDigest)",
        ]
        if c.passed {
            lines.append("no differences")
        } else {
            lines.append("\(c.differences.count) differences:")
            lines += c.differences.prefix(limit).map { "  \($0)" }
            if c.differences.count > limit { lines.append("  … and \(c.differences.count - limit) more") }
        }
        return lines.joined(separator: "\n")
    }

    private func usage(_ message: String) -> Never {
        FileHandle.standardError.write(Data("accord audit rebuild: \(message)\n".utf8))
        Foundation.exit(2)
    }

    private func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("accord audit rebuild: \(message)\n".utf8))
        Foundation.exit(1)
    }
}
