import AccordAudit
import AccordIntegrity
import ArgumentParser
import Foundation

/// `accord audit verify-proof`: checks a proof written by `accord audit prove`, offline.
struct AuditVerifyProofCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-proof",
        abstract: "Check a view proof offline: record, bucket, path, root and the checkpoint's signature.",
        discussion: """
        Recomputes the record's leaf from the exact bytes in the proof, the bucket hash from its leaves,
        the path of 16 node hashes up to the root, checks that root is the view digest the journal
        checkpoint signs and, with --projector-key-pub, that the checkpoint's signature verifies with
        a key of its signer valid when it was issued (schemas/integrity.md §11). Needs no store.

        Without the projector's public key nothing shows that the root is the projector's: anyone can
        recompute a tampered record's hashes up to a root of their own. So --projector-key-pub is
        required; --unsigned checks the hashes alone and says so in its first line.

        Exit status: 0 the proof holds (with --unsigned: its hashes hold), 1 it does not (the first step
        that fails is named), 2 usage error (no --projector-key-pub and no --unsigned).
        """
    )

    @Argument(help: "The proof file written by `accord audit prove`.")
    var proof: String

    @Option(name: .customLong("projector-key-pub"),
            help: "The projector's public key (a registry JSON, such as <store>.projector-key.pub.json).")
    var projectorKeyPub: String?

    @Flag(help: "Check the hashes without the projector's public key; the result then proves nothing about who signed the root.")
    var unsigned = false

    func run() throws {
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: proof)))
        } catch {
            usage("cannot read \(proof): \(error.localizedDescription)")
        }
        var keys: KeyRegistry?
        if projectorKeyPub == nil, !unsigned {
            usage("give --projector-key-pub (the projector's public key, such as <store>.projector-key.pub.json); "
                  + "without it nothing shows the root is the projector's. --unsigned checks the hashes alone")
        }
        if projectorKeyPub != nil, unsigned { usage("give --projector-key-pub or --unsigned, not both") }
        if let projectorKeyPub {
            switch RegistryFile.read(projectorKeyPub) {
            case .success(let registry): keys = registry
            case .failure(let error): usage("--projector-key-pub: \(error)")
            }
        }
        let document: ViewProofDocument
        do {
            document = try ViewProofDocument(jsonBytes: bytes)
        } catch {
            print("proof does not hold: \(proof) is not a view proof: \(error)")
            throw ExitCode(1)
        }
        let verdict = document.verify(projectorKeys: keys)
        if unsigned { print("UNSIGNED CHECK: only the hashes were checked; nothing proves the root is the projector's view") }
        print(verdict.text)
        if !verdict.holds { throw ExitCode(1) }
    }

    private func usage(_ message: String) -> Never {
        FileHandle.standardError.write(Data("accord audit verify-proof: \(message)\n".utf8))
        Foundation.exit(2)
    }
}
