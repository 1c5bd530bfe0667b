import AccordAudit
import AccordEvents
import AccordIntegrity
import AccordProjection
import AccordStore
import ArgumentParser
import Foundation

/// `accord audit verify`: proves (or disproves) that the projector's journal is the unaltered,
/// complete, in-order history of what the agencies signed.
struct AuditVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the journal's hash chain, every signature and every sequence over the whole store.",
        discussion: """
        Walks the whole journal in position order and checks: the journal hash chain (positions, entry
        hashes); each stored record's event hash recomputed from its stored headers and value, and its
        link to its predecessor in its source chain; every stored agency checkpoint's signature (with a key
        of its source valid when it was issued, from --key-registry) and its head against the stored chain;
        every signed journal checkpoint's signature (the projector's key, --projector-key-pub, default
        <store>.projector-key.pub.json), entry hash and view digest (the journal is replayed through the
        projection with --rules); and per-source sequence numbers (gaps are reported as findings, not
        corruption). It also lists what the store knows is missing: ranges of Kafka records the
        projector skipped unread and has not recovered, and chains pending a gap (their later records
        held until the chain's source serves the missing events). The store is opened read-only.

        Exit status: 0 intact and complete (with a summary), 1 the first bad entry and what is wrong
        with it, 2 usage error (missing or unreadable store, registry or key file), 3 intact but
        incomplete (unread records or pending chains, listed).
        """
    )

    @Option(help: "The projector's store file (read only).")
    var store: String = "accord-projector.sqlite"

    @Option(name: .customLong("key-registry"), help: "The agencies' public key registry JSON (env ACCORD_KEY_REGISTRY).")
    var keyRegistry: String?

    @Option(name: .customLong("projector-key-pub"),
            help: "The projector's public key (a registry JSON, as written to <store>.projector-key.pub.json).")
    var projectorKeyPub: String?

    @Option(help: "JSON rules file with accountability thresholds, as given to the projector (for the view digest replay).")
    var rules: String?

    @Option(help: ArgumentHelp(AreaOfficesOption.help, valueName: "file"))
    var areaOffices: String?

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap()
        guard let registryPath = keyRegistry ?? ProcessInfo.processInfo.environment["ACCORD_KEY_REGISTRY"] else {
            usage("--key-registry FILE is required: the agencies' public keys")
        }
        let registry = readRegistry(registryPath, what: "--key-registry")
        guard FileManager.default.fileExists(atPath: store) else { usage("--store: no store at \(store)") }
        var projectorKeys: KeyRegistry?
        if let projectorKeyPub {
            projectorKeys = readRegistry(projectorKeyPub, what: "--projector-key-pub")
        } else {
            let beside = store + ".projector-key.pub.json"
            if FileManager.default.fileExists(atPath: beside) {
                projectorKeys = readRegistry(beside, what: beside)
                note("using the projector key written next to the store (\(beside)); give --projector-key-pub to check against a key you hold")
            }
        }
        var projectionRules = ProjectionRules.defaults
        if let rules {
            do {
                projectionRules = try ProjectionRules(json: Data(contentsOf: URL(fileURLWithPath: rules)))
            } catch {
                usage("--rules \(rules): \(error)")
            }
        }
        let upcaster: EventUpcaster
        do {
            upcaster = try AreaOfficesOption.upcaster(areaOffices)
        } catch {
            usage("--area-offices: \(error)")
        }
        let summary: AuditSummary
        do {
            summary = try JournalAudit.verify(storePath: store, registry: registry, projectorKeys: projectorKeys,
                                              rules: projectionRules, upcaster: upcaster)
        } catch {
            usage("--store \(store): \(error)")
        }
        print(summary.text)
        if !summary.isIntact { throw ExitCode(1) }
        if !summary.isComplete { throw ExitCode(3) }
    }

    private func readRegistry(_ path: String, what: String) -> KeyRegistry {
        switch RegistryFile.read(path) {
        case .success(let registry): return registry
        case .failure(let error): usage("\(what): \(error)")
        }
    }

    private func note(_ message: String) {
        FileHandle.standardError.write(Data("accord audit verify: \(message)\n".utf8))
    }

    private func usage(_ message: String) -> Never {
        FileHandle.standardError.write(Data("accord audit verify: \(message)\n".utf8))
        Foundation.exit(2)
    }
}
