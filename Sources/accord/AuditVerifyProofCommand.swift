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

        Exit status: 0 the proof holds, 1 it does not (the first step that fails is named), 2 usage error.
        """
    )

    @Argument(help: "The proof file written by `accord audit prove`.")
    var proof: String

    @Option(name: .customLong("projector-key-pub"),
            help: "The projector's public key (a registry JSON, such as <store>.projector-key.pub.json).")
    var projectorKeyPub: String?

    func run() throws {
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: proof)))
        } catch {
            usage("cannot read \(proof): \(error.localizedDescription)")
        }
        var keys: KeyRegistry?
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
        print(verdict.text)
        if !verdict.holds { throw ExitCode(1) }
    }

    private func usage(_ message: String) -> Never {
        FileHandle.standardError.write(Data("accord audit verify-proof: \(message)\n".utf8))
        Foundation.exit(2)
    }
}
