import AccordEvents
import AccordIntegrity
import AccordProjection
import Foundation
import GRDB

/// One subject's record with the inclusion proof of its leaf against a signed view root.
public struct SubjectProof: Sendable {
    /// The subject.
    public var subject: SubjectKey
    /// The canonical JSON of its record: the bytes its leaf hashes.
    public var canonicalRecord: [UInt8]
    /// The proof from its leaf to the root.
    public var proof: ViewProof
    /// The signed journal checkpoint whose view digest is the proof's root.
    public var checkpoint: JournalCheckpoint
    /// Events about the subject, journaled up to the checkpoint, that were not yet under a signed
    /// checkpoint of their source's chain when the proof was made.
    public var provisionalEvents: [ProvisionalEvent] = []
}

/// A journaled event not yet covered by a signed checkpoint of its source's chain.
public struct ProvisionalEvent: Sendable, Equatable {
    /// The event id.
    public var eventId: String
    /// The source that sent it.
    public var source: String
    /// Its journal position.
    public var position: Int64

    /// Creates the entry.
    public init(eventId: String, source: String, position: Int64) {
        self.eventId = eventId
        self.source = source
        self.position = position
    }
}

/// Why a subject's inclusion proof cannot be made from a store.
public enum ViewProofUnavailable: Error, Sendable, Equatable, CustomStringConvertible {
    /// The subject has no record in the view.
    case notInView(String)
    /// The store's digest was computed at journal position `position` but no checkpoint signs it.
    case unsigned(position: Int64)
    /// The subject changed after the last signed checkpoint; its current record is not under that root.
    case changedSinceCheckpoint(String, position: Int64)
    /// The stored tree does not match the stored records (the store is damaged).
    case inconsistent(String)

    public var description: String {
        switch self {
        case .notInView(let key): "\(key) has no record in the view"
        case .unsigned(let position):
            "the view digest at journal position \(position) is not signed by a journal checkpoint yet; the projector signs one every few seconds and when it stops"
        case .changedSinceCheckpoint(let key, let position):
            "\(key) changed after the last signed checkpoint (journal position \(position)); prove again after the next checkpoint, which the projector signs every few seconds and when it stops"
        case .inconsistent(let detail): "the store is inconsistent: \(detail); run `accord audit rebuild --from journal --compare`"
        }
    }
}

extension ProjectorStore {
    /// The record of `subject` and its inclusion proof against the view root of the last signed
    /// journal checkpoint, read in one snapshot of the store.
    public func prove(_ subject: SubjectKey, rules: ProjectionRules = .defaults) throws -> SubjectProof {
        let key = subject.description
        return try read { db -> SubjectProof in
            let meta = Dictionary(try Row.fetchAll(db, sql: "SELECT key, value FROM view_meta").map {
                (($0["key"] as String?) ?? "", ($0["value"] as String?) ?? "")
            }, uniquingKeysWith: { a, _ in a })
            guard let digestText = meta["view_digest"], let digest = Hash256(hex: digestText),
                  let position = meta["view_digest_position"].flatMap({ Int64($0) }) else {
                throw ViewProofUnavailable.unsigned(position: 0)
            }
            guard let row = try Row.fetchOne(db, sql: """
                SELECT * FROM journal_checkpoints WHERE position = ? AND view_digest = ? ORDER BY id DESC LIMIT 1
                """, arguments: [position, digest.hex]) else {
                throw ViewProofUnavailable.unsigned(position: position)
            }
            let checkpoint = try ProjectorStore.journalCheckpoint(row)
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM view_dirty WHERE key = ?", arguments: [key]) == true {
                throw ViewProofUnavailable.changedSinceCheckpoint(key, position: position)
            }
            guard let leafRow = try Row.fetchOne(db, sql: "SELECT bucket, leaf FROM view_leaf WHERE key = ?", arguments: [key]) else {
                throw ViewProofUnavailable.notInView(key)
            }
            let bucket: Int = leafRow["bucket"]
            guard let storedLeaf = Hash256(bytes: [UInt8]((leafRow["leaf"] as Data?) ?? Data())) else {
                throw ViewProofUnavailable.inconsistent("the stored leaf of \(key) is not 32 bytes")
            }
            var engine = ProjectionEngine(rules: rules, caseCapacity: 16)
            guard let record = try engine.canonicalRecord(of: subject, from: StoreFacts(db: db)) else {
                throw ViewProofUnavailable.inconsistent("\(key) has a leaf but no record")
            }
            guard storedLeaf == ViewTree.leaf(key: key, canonicalJSON: record) else {
                throw ViewProofUnavailable.inconsistent("the stored leaf of \(key) is not the hash of its record")
            }
            let leaves = try Row.fetchAll(db, sql: "SELECT key, leaf FROM view_leaf WHERE bucket = ? ORDER BY key",
                                          arguments: [bucket]).map { row in
                ProofLeaf(key: row["key"], leaf: Hash256(bytes: [UInt8]((row["leaf"] as Data?) ?? Data())) ?? .zero)
            }
            var hashes: [Int: Hash256] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT bucket, hash FROM view_bucket") {
                if let hash = Hash256(bytes: [UInt8]((row["hash"] as Data?) ?? Data())) { hashes[row["bucket"]] = hash }
            }
            var tree = ViewTree(bucketHashes: hashes)
            guard tree.root() == digest else {
                throw ViewProofUnavailable.inconsistent("the stored buckets do not lead to the stored digest")
            }
            let proof = ViewProof(key: key, bucket: bucket, bucketLeaves: leaves, path: tree.path(bucket: bucket), root: digest)
            var made = SubjectProof(subject: subject, canonicalRecord: record, proof: proof, checkpoint: checkpoint)
            made.provisionalEvents = try Self.provisionalEvents(of: subject, upTo: checkpoint.position, db)
            return made
        }
    }

    /// The journaled events about `subject` (by CloudEvents subject, or by source for a source
    /// subject) up to `position` that are still unverified, in journal order.
    static func provisionalEvents(of subject: SubjectKey, upTo position: Int64, _ db: Database) throws -> [ProvisionalEvent] {
        let ids = try StoreIds(db)
        let filter: String
        let value: DatabaseValueConvertible
        switch subject {
        case .caseId(let id), .contract(let id), .area(let id):
            filter = "subject = ?"
            value = id
        case .source(let urn):
            guard let sourceId = ids.sourceId(urn) else { return [] }
            filter = "source_id = ?"
            value = sourceId
        }
        return try Row.fetchAll(db, sql: """
            SELECT \(journalColumns) FROM journal
            WHERE position IN (SELECT position FROM journal_unverified) AND \(filter) AND position <= ? AND retracted IS NULL
            ORDER BY position
            """, arguments: [value, position]).map { row in
            let entry = try journaledEvent(row, ids)
            return ProvisionalEvent(eventId: entry.eventId, source: entry.source, position: entry.position)
        }
    }
}
