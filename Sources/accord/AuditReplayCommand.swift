import AccordAudit
import AccordEvents
import AccordIntegrity
import AccordProjection
import AccordStore
import ArgumentParser
import Foundation

/// `accord audit replay`: the view exactly as it stood at an instant, rebuilt from the journal
/// into a separate store, with a JSON and an HTML audit report.
struct AuditReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Rebuild the view as of an instant from the journal and write an audit report.",
        discussion: """
        Two perspectives on the instant T given with --as-of:
          as known now (default)   what had happened by T, including events recorded later (late entries)
          as shown (--as-shown)    what the view actually showed at T: only events recorded by T
        --known-at K asks "what had happened by T, as known at K". The same views are served by the
        query API with ?asOf=T (&knownAt=K). Every report states its perspective and lists the events
        recorded after T that changed the picture of T.

        Writes DIR/replay.sqlite (a separate projector store: the journal entries of the view and the
        case and contract rows as of T), DIR/report.json and DIR/report.html. The live store is only
        read. Exit status: 0 done, 1 failure (or journal entries that do not decode), 2 usage error.
        """
    )

    @Option(help: "The projector's store file (read only).")
    var store: String = "accord-projector.sqlite"

    @Option(name: .customLong("as-of"), help: "The instant the view is about (RFC 3339, e.g. 2025-06-01T00:00:00Z).")
    var asOf: String

    @Option(name: .customLong("known-at"), help: "Only events recorded by this instant (RFC 3339).")
    var knownAt: String?

    @ArgumentParser.Flag(name: .customLong("as-shown"), help: "What the view showed at --as-of: same as --known-at equal to --as-of.")
    var asShown = false

    @Option(help: "Output directory (default: accord-audit-<as-of>).")
    var out: String?

    @Option(help: "JSON rules file with accountability thresholds (as given to the projector).")
    var rules: String?

    @Option(help: ArgumentHelp(AreaOfficesOption.help, valueName: "file"))
    var areaOffices: String?

    @Option(name: .customLong("key-registry"),
            help: "The agencies' public key registry JSON (env ACCORD_KEY_REGISTRY): verify the journal for the report's integrity section.")
    var keyRegistry: String?

    @Option(name: .customLong("projector-key-pub"), help: "The projector's public key registry JSON (journal checkpoint signatures).")
    var projectorKeyPub: String?

    @ArgumentParser.Flag(help: "No progress bar.")
    var quiet = false

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap()
        guard let instant = Timestamp(rfc3339: asOf) else {
            usage("--as-of: expected an RFC 3339 instant such as 2025-06-01T00:00:00Z, got '\(asOf)'")
        }
        var time = ReplayTime.asKnownNow(instant)
        if asShown && knownAt != nil { usage("give either --known-at or --as-shown, not both") }
        if asShown { time = .asShown(at: instant) }
        if let knownAt {
            guard let known = Timestamp(rfc3339: knownAt) else {
                usage("--known-at: expected an RFC 3339 instant such as 2025-06-01T00:00:00Z, got '\(knownAt)'")
            }
            time.knownAt = known
        }
        let projectionRules = loadRules()
        let upcaster: EventUpcaster
        do {
            upcaster = try AreaOfficesOption.upcaster(areaOffices)
        } catch {
            usage("--area-offices: \(error)")
        }
        guard FileManager.default.fileExists(atPath: store) else { usage("no store at \(store)") }
        let directory = out ?? "accord-audit-" + instant.description.replacingOccurrences(of: ":", with: "")

        var verifier = ReportIntegrity.defaultVerifier
        if let registryPath = keyRegistry ?? ProcessInfo.processInfo.environment["ACCORD_KEY_REGISTRY"] {
            let registry = readRegistry(registryPath, what: "--key-registry")
            var projectorKeys = projectorKeyPub.map { readRegistry($0, what: "--projector-key-pub") }
            let beside = store + ".projector-key.pub.json"
            if projectorKeys == nil, FileManager.default.fileExists(atPath: beside) {
                projectorKeys = readRegistry(beside, what: "projector key")
            }
            verifier = JournalAudit.reportVerifier(registry: registry, projectorKeys: projectorKeys, rules: projectionRules,
                                                   upcaster: upcaster)
        }

        var bar: ProgressBar?
        let outcome: Replay.Outcome
        do {
            outcome = try Replay.run(storePath: store, time: time, directory: directory, rules: projectionRules,
                                     upcaster: upcaster, verifier: verifier, generatedAt: Timestamp(secondsSinceEpoch: Int64(Date().timeIntervalSince1970))) { step in
                guard !quiet else { return }
                if bar == nil, step.total >= 1_000 { bar = ProgressBar(total: step.total, label: "replaying") }
                bar?.update(step.done)
            }
            bar?.finish()
        } catch {
            bar?.finish(note: "failed")
            fail("\(error)")
        }
        print(Self.summary(outcome))
        if outcome.report.integrity.verification?.passed == false {
            fail("journal verification failed; see the integrity section of the report")
        }
        if !outcome.report.integrity.undecodable.isEmpty {
            fail("\(outcome.report.integrity.undecodable.count) journal entries did not decode; they are listed in the report")
        }
    }

    static func summary(_ outcome: Replay.Outcome) -> String {
        let r = outcome.report
        let s = r.summary
        var lines = [
            "\(r.perspective.headline)",
            "  perspective  \(r.perspective.name): \(r.perspective.description)",
            "  asOf         \(r.perspective.asOf)",
            "  knownAt      \(r.perspective.knownAt?.description ?? "- (everything recorded so far)")",
            "  journal      \(r.generatedFrom.entriesInView) of \(r.generatedFrom.journalEntries) entries in the view (last position \(r.generatedFrom.lastPosition))",
            "  view         \(s.cases) cases (\(s.openCases) open), \(s.openFlags) open flags, \(s.resolvedFlags) resolved, \(s.contracts) contracts, \(s.areas) areas",
            "  digest       \(r.digest)",
            "  recorded late \(s.lateRecordedEvents) events happened by asOf but were recorded after it"
                + (s.lateRecordedEvents > 0 ? " (\(r.lateRecorded.casesChanged.count) cases, \(r.lateRecorded.contractsChanged.count) contracts differ from \(r.lateRecorded.comparedWith.name))" : ""),
        ]
        if let verification = r.integrity.verification {
            lines.append("  integrity    \(verification.passed ? "verified" : "FAILED"): \(verification.summary)")
        } else {
            lines.append("  integrity    \(r.integrity.journalEntries) journal entries; verification not run (accord audit verify)")
        }
        lines += [
            "wrote",
            "  \(outcome.output.store)",
            "  \(outcome.output.json)",
            "  \(outcome.output.html)",
        ]
        return lines.joined(separator: "\n")
    }

    private func loadRules() -> ProjectionRules {
        guard let rules else { return .defaults }
        do {
            return try ProjectionRules(json: Data(contentsOf: URL(fileURLWithPath: rules)))
        } catch {
            usage("rules file \(rules): \(error)")
        }
    }

    private func readRegistry(_ path: String, what: String) -> KeyRegistry {
        switch RegistryFile.read(path) {
        case .success(let registry): return registry
        case .failure(let error): usage("\(what): \(error)")
        }
    }

    private func usage(_ message: String) -> Never {
        FileHandle.standardError.write(Data("accord audit replay: \(message)\n".utf8))
        Foundation.exit(2)
    }

    private func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("accord audit replay: \(message)\n".utf8))
        Foundation.exit(1)
    }
}
