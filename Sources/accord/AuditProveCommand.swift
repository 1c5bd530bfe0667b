import AccordAudit
import AccordProjection
import AccordStore
import ArgumentParser
import Foundation

/// `accord audit prove`: an inclusion proof of one subject's record against the view root of the
/// projector's last signed journal checkpoint.
struct AuditProveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prove",
        abstract: "Write a proof that a case's (or contract's) record is part of the signed view.",
        discussion: """
        Reads the store (read-only) and writes a JSON document holding the subject's record, the exact
        bytes its leaf hashes, the other leaves of its bucket, the 16 sibling hashes up to the view root,
        and the projector's signed journal checkpoint naming that root (schemas/integrity.md §11).
        `accord audit verify-proof` checks it offline with the projector's public key.

        The proof is against the last signed checkpoint: a subject changed since then is refused until
        the next one (the projector signs one every few seconds while events arrive, and when it stops).

        Exit status: 0 proof written, 1 the subject cannot be proven (not in the view, changed since
        the last checkpoint, or the store is inconsistent), 2 usage error.
        """
    )

    @Option(help: "The projector's store file (read only).")
    var store: String = "accord-projector.sqlite"

    @Option(name: .customLong("case"), help: "The case id to prove.")
    var caseId: String?

    @Option(help: "The contract id to prove.")
    var contract: String?

    @Option(help: "Any subject key: case:<id>, contract:<id>, area:<code> or source:<urn>.")
    var subject: String?

    @Option(help: "Write the proof to this file instead of standard output.")
    var out: String?

    @Option(help: "JSON rules file with accountability thresholds, as given to the projector.")
    var rules: String?

    func run() throws {
        var chosen: [SubjectKey] = []
        if let caseId { chosen.append(.caseId(caseId)) }
        if let contract { chosen.append(.contract(contract)) }
        if let subject {
            guard let key = SubjectKey(subject) else {
                usage("--subject \(subject): expected case:<id>, contract:<id>, area:<code> or source:<urn>")
            }
            chosen.append(key)
        }
        guard chosen.count == 1, let key = chosen.first else { usage("give exactly one of --case, --contract or --subject") }
        guard FileManager.default.fileExists(atPath: store) else { usage("--store: no store at \(store)") }
        var projectionRules = ProjectionRules.defaults
        if let rules {
            do {
                projectionRules = try ProjectionRules(json: Data(contentsOf: URL(fileURLWithPath: rules)))
            } catch {
                usage("--rules \(rules): \(error)")
            }
        }
        let document: ViewProofDocument
        do {
            document = try ViewProofDocument.make(storePath: store, subject: key, rules: projectionRules)
        } catch let error as ViewProofUnavailable {
            FileHandle.standardError.write(Data("accord audit prove: cannot prove \(key): \(error)\n".utf8))
            throw ExitCode(1)
        } catch let error as StoreAuditError {
            usage("--store \(store): \(error)")
        }
        let bytes = try document.jsonBytes()
        if let out {
            do {
                try Data(bytes).write(to: URL(fileURLWithPath: out), options: .atomic)
            } catch {
                usage("--out \(out): \(error.localizedDescription)")
            }
            print("proof of \(key) against the view signed at journal position \(document.checkpoint.position) written to \(out)")
        } else {
            FileHandle.standardOutput.write(Data(bytes))
        }
    }

    private func usage(_ message: String) -> Never {
        FileHandle.standardError.write(Data("accord audit prove: \(message)\n".utf8))
        Foundation.exit(2)
    }
}
