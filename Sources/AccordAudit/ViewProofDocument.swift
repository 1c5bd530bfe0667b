import AccordEvents
import AccordIntegrity
import AccordProjection
import AccordStore
import Foundation

/// A self-contained inclusion proof of one subject's record (`accord audit prove`): the record,
/// the exact bytes its leaf hashes, the other leaves of its bucket, the 16 sibling hashes up to
/// the root, and the projector's signed journal checkpoint naming that root
/// (`schemas/integrity.md` §11.6). Anyone holding the projector's public key can check it offline.
public struct ViewProofDocument: Sendable, Equatable {
    /// The format name written in every document.
    public static let format = "accord-view-proof-v1"

    /// The subject key, e.g. `case:X123456`.
    public var subject: String
    /// The canonical JSON of the subject's record: the bytes its leaf hashes.
    public var canonicalRecord: [UInt8]
    /// The proof from the leaf to the root.
    public var proof: ViewProof
    /// The signed journal checkpoint whose view digest is the root.
    public var checkpoint: JournalCheckpoint
    /// Events about the subject that were provisional (not yet under a signed checkpoint of their
    /// source) when the proof was made, as the store reported them; not covered by any signature.
    public var provisionalEvents: [ProvisionalEvent]

    /// A document from a proof made by the store.
    public init(_ made: SubjectProof) {
        subject = made.subject.description
        canonicalRecord = made.canonicalRecord
        proof = made.proof
        checkpoint = made.checkpoint
        provisionalEvents = made.provisionalEvents
    }

    /// Makes the proof of `subject` from the store at `storePath` (opened read-only).
    public static func make(storePath: String, subject: SubjectKey, rules: ProjectionRules = .defaults) throws -> ViewProofDocument {
        let reader = try StoreAuditReader(path: storePath)
        return ViewProofDocument(try reader.store.prove(subject, rules: rules))
    }

    /// The document as pretty-printed JSON with sorted keys; `record` repeats `canonicalRecord`
    /// parsed, for reading.
    public func jsonBytes() throws -> [UInt8] {
        let record = try JSONSerialization.jsonObject(with: Data(canonicalRecord), options: [.fragmentsAllowed])
        let document: [String: Any] = [
            "format": Self.format,
            "subject": subject,
            "record": record,
            "canonicalRecord": String(decoding: canonicalRecord, as: UTF8.self),
            "leaf": ViewTree.leaf(key: subject, canonicalJSON: canonicalRecord).hex,
            "bucket": proof.bucket,
            "bucketLeaves": proof.bucketLeaves.map { ["key": $0.key, "leaf": $0.leaf.hex] },
            "path": proof.path.map(\.hex),
            "root": proof.root.hex,
            "checkpoint": [
                "position": checkpoint.position, "entryHash": checkpoint.entryHash.hex,
                "viewDigest": checkpoint.viewDigest.hex, "issuedAt": checkpoint.issuedAt.rfc3339,
                "signer": checkpoint.signer, "keyId": checkpoint.keyId, "signature": checkpoint.signature,
            ] as [String: Any],
            "provisionalEvents": provisionalEvents.map {
                ["eventId": $0.eventId, "source": $0.source, "position": $0.position] as [String: Any]
            },
        ]
        let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return [UInt8](data) + [0x0a]
    }

    /// Reads a document, saying which field is missing or malformed.
    public init(jsonBytes: [UInt8]) throws(ViewProofDocumentError) {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(jsonBytes))
        } catch {
            throw ViewProofDocumentError(field: "", "not JSON: \(error.localizedDescription)")
        }
        guard let root = object as? [String: Any] else { throw ViewProofDocumentError(field: "", "not a JSON object") }
        guard root["format"] as? String == Self.format else {
            throw ViewProofDocumentError(field: "format", "expected \"\(Self.format)\", got \(root["format"].map { "\($0)" } ?? "nothing")")
        }
        func string(_ name: String, in object: [String: Any], at path: String) throws(ViewProofDocumentError) -> String {
            guard let value = object[name] as? String else { throw ViewProofDocumentError(field: path + name, "missing or not a string") }
            return value
        }
        func hash(_ name: String, in object: [String: Any], at path: String) throws(ViewProofDocumentError) -> Hash256 {
            guard let value = Hash256(hex: try string(name, in: object, at: path)) else {
                throw ViewProofDocumentError(field: path + name, "not 64 hex digits")
            }
            return value
        }
        subject = try string("subject", in: root, at: "")
        canonicalRecord = Array(try string("canonicalRecord", in: root, at: "").utf8)
        guard let bucket = root["bucket"] as? Int else { throw ViewProofDocumentError(field: "bucket", "missing or not an integer") }
        guard let leaves = root["bucketLeaves"] as? [[String: Any]] else {
            throw ViewProofDocumentError(field: "bucketLeaves", "missing or not an array of objects")
        }
        var proofLeaves: [ProofLeaf] = []
        for (n, leaf) in leaves.enumerated() {
            proofLeaves.append(ProofLeaf(key: try string("key", in: leaf, at: "bucketLeaves[\(n)]."),
                                         leaf: try hash("leaf", in: leaf, at: "bucketLeaves[\(n)].")))
        }
        guard let pathTexts = root["path"] as? [String] else { throw ViewProofDocumentError(field: "path", "missing or not an array of strings") }
        var path: [Hash256] = []
        for (n, text) in pathTexts.enumerated() {
            guard let node = Hash256(hex: text) else { throw ViewProofDocumentError(field: "path[\(n)]", "not 64 hex digits") }
            path.append(node)
        }
        proof = ViewProof(key: subject, bucket: bucket, bucketLeaves: proofLeaves, path: path, root: try hash("root", in: root, at: ""))
        guard let signed = root["checkpoint"] as? [String: Any] else {
            throw ViewProofDocumentError(field: "checkpoint", "missing or not an object")
        }
        guard let position = signed["position"] as? Int64 ?? (signed["position"] as? Int).map(Int64.init) else {
            throw ViewProofDocumentError(field: "checkpoint.position", "missing or not an integer")
        }
        guard let issuedAt = Timestamp(rfc3339: try string("issuedAt", in: signed, at: "checkpoint.")) else {
            throw ViewProofDocumentError(field: "checkpoint.issuedAt", "not an RFC 3339 instant")
        }
        checkpoint = JournalCheckpoint(signer: try string("signer", in: signed, at: "checkpoint."), position: position,
                                       entryHash: try hash("entryHash", in: signed, at: "checkpoint."),
                                       viewDigest: try hash("viewDigest", in: signed, at: "checkpoint."), issuedAt: issuedAt,
                                       keyId: try string("keyId", in: signed, at: "checkpoint."),
                                       signature: try string("signature", in: signed, at: "checkpoint."))
        // Proofs written before the field existed have none.
        provisionalEvents = []
        if let listed = root["provisionalEvents"] {
            guard let entries = listed as? [[String: Any]] else {
                throw ViewProofDocumentError(field: "provisionalEvents", "not an array of objects")
            }
            for (n, entry) in entries.enumerated() {
                let at = "provisionalEvents[\(n)]."
                guard let position = entry["position"] as? Int64 ?? (entry["position"] as? Int).map(Int64.init) else {
                    throw ViewProofDocumentError(field: at + "position", "missing or not an integer")
                }
                provisionalEvents.append(ProvisionalEvent(eventId: try string("eventId", in: entry, at: at),
                                                          source: try string("source", in: entry, at: at), position: position))
            }
        }
        if let record = root["record"], let hashed = try? JSONSerialization.jsonObject(with: Data(canonicalRecord), options: [.fragmentsAllowed]),
           !(NSDictionary(dictionary: ["r": record]).isEqual(to: ["r": hashed])) {
            throw ViewProofDocumentError(field: "record", "differs from canonicalRecord, the bytes that are hashed")
        }
    }

    /// Checks the proof: the record's leaf, its bucket, the path to the root, the root against the
    /// checkpoint's view digest and, with `projectorKeys`, the checkpoint's signature.
    public func verify(projectorKeys: KeyRegistry?) -> ViewProofVerdict {
        var verdict = ViewProofVerdict(subject: subject, checkpoint: checkpoint)
        verdict.provisionalEvents = provisionalEvents
        if case .failure(let error) = proof.verify(canonicalJSON: canonicalRecord) {
            verdict.failure = error.description
            return verdict
        }
        guard proof.root == checkpoint.viewDigest else {
            verdict.failure = "the proof leads to root \(proof.root), but the checkpoint signs view digest \(checkpoint.viewDigest)"
            return verdict
        }
        if let projectorKeys {
            if let rejection = checkpoint.verifySignature(with: projectorKeys) {
                verdict.failure = "the journal checkpoint's signature does not verify: \(rejection)"
                return verdict
            }
            verdict.signatureChecked = true
        }
        return verdict
    }
}

/// What checking a view proof found.
public struct ViewProofVerdict: Sendable, Equatable {
    /// The subject proven.
    public var subject: String
    /// The checkpoint the proof is against.
    public var checkpoint: JournalCheckpoint
    /// Why the proof does not hold (nil: it holds).
    public var failure: String?
    /// Whether the checkpoint's signature was checked with the projector's key.
    public var signatureChecked = false
    /// Events of the record that were provisional when the proof was made.
    public var provisionalEvents: [ProvisionalEvent] = []

    /// Whether the proof holds.
    public var holds: Bool { failure == nil }

    /// What was established: a line, then one line on the record's provisional events, if any.
    public var text: String {
        if let failure { return "proof does not hold for \(subject): \(failure)" }
        let signed = "the view signed by \(checkpoint.signer) (key \(checkpoint.keyId)) at journal position \(checkpoint.position), \(checkpoint.issuedAt)"
        var lines = [signatureChecked
            ? "proof holds: \(subject) is this record in \(signed); signature verified"
            : "hashes hold: \(subject) leads to the root named by \(signed); signature NOT checked, so nothing shows the root is the projector's"]
        if !provisionalEvents.isEmpty {
            let listed = provisionalEvents.prefix(10).map { "\($0.eventId) from \($0.source) at position \($0.position)" }
            lines.append("the record rests on \(provisionalEvents.count) provisional event(s), not yet under a signed checkpoint of "
                         + "their source when the proof was made: \(listed.joined(separator: ", "))"
                         + (provisionalEvents.count > 10 ? ", …" : ""))
        }
        return lines.joined(separator: "\n")
    }
}

/// A malformed proof document.
public struct ViewProofDocumentError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The field at fault (empty: the whole document).
    public var field: String
    /// What is wrong with it.
    public var message: String

    /// Creates the error.
    public init(field: String, _ message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { field.isEmpty ? message : "\(field): \(message)" }
}
