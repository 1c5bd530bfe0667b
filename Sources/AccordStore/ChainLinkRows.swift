import AccordIntegrity
import Foundation
import GRDB

/// Chain verifier states as rows: `chain_states` holds each chain's fixed-size head (as JSON,
/// with no links) and `chain_links` its accepted, not yet checkpointed links, one row each.
enum ChainLinkRows {
    /// Writes `state`. When the chain's stored links are a prefix of its links now (nothing was
    /// settled since `written`), only the new links are inserted; otherwise the chain's links are
    /// replaced. Returns what is now stored, to pass as `written` next time.
    static func write(_ state: ChainState, written: StoredLinks?, encoder: JSONEncoder, _ db: Database) throws -> StoredLinks {
        let chain = state.chain
        let key: StatementArguments = [chain.source, chain.topic, Int64(chain.partition)]
        let links = state.unverified
        var from = 0
        if let written, written.verifiedCount == state.verifiedCount, written.count <= links.count,
           written.count == 0 || links[written.count - 1].hash == written.lastHash {
            from = written.count
        } else {
            try db.cachedStatement(sql: "DELETE FROM chain_links WHERE source = ? AND topic = ? AND partition = ?")
                .execute(arguments: key)
        }
        if from < links.count {
            let insert = try db.cachedStatement(sql: """
                INSERT INTO chain_links (source, topic, partition, ord, position, hash, prev_hash, sequence, "offset", forked)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for ord in from..<links.count {
                let link = links[ord]
                try insert.execute(arguments: key + [Int64(ord), link.position, Data(link.hash.bytes), Data(link.prevHash.bytes),
                                                     link.sequence, link.offset, link.forked])
            }
        }
        let json = String(decoding: try encoder.encode(state.head), as: UTF8.self)
        try db.cachedStatement(sql: """
            INSERT INTO chain_states (source, topic, partition, state) VALUES (?, ?, ?, ?)
            ON CONFLICT(source, topic, partition) DO UPDATE SET state = excluded.state
            """).execute(arguments: key + [json])
        return StoredLinks(verifiedCount: state.verifiedCount, count: links.count, lastHash: links.last?.hash)
    }

    /// Every stored chain state with its links.
    static func readAll(_ db: Database) throws -> [ChainState] {
        let decoder = JSONDecoder()
        var links: [ChainID: [ChainLink]] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT source, topic, partition, position, hash, prev_hash, sequence, "offset", forked FROM chain_links
            ORDER BY source, topic, partition, ord
            """) {
            let chain = ChainID(source: row["source"], topic: row["topic"], partition: Int32(truncatingIfNeeded: row["partition"] as Int64))
            let hash: Data = row["hash"]
            let prev: Data = row["prev_hash"]
            guard let h = Hash256(bytes: hash), let p = Hash256(bytes: prev) else {
                throw StoreError("a stored chain link of \(chain) has a malformed hash; rebuild the store from Kafka")
            }
            links[chain, default: []].append(ChainLink(chain: chain, position: row["position"], hash: h, prevHash: p,
                                                       sequence: row["sequence"], offset: row["offset"], forked: row["forked"]))
        }
        return try Row.fetchAll(db, sql: "SELECT source, topic, partition, state FROM chain_states ORDER BY source, topic, partition")
            .map { row in
                let text: String = row["state"]
                let head: ChainState
                do {
                    head = try decoder.decode(ChainState.self, from: Data(text.utf8))
                } catch {
                    let source: String = row["source"]
                    let topic: String = row["topic"]
                    let partition: Int64 = row["partition"]
                    throw StoreError("stored chain state of \(source)@\(topic)/\(partition) is not readable: \(error)")
                }
                return ChainState(restoring: head, unverified: head.unverified + (links[head.chain] ?? []))
            }
    }

    /// Migration: states written with their links inline keep only their heads, the links move to rows.
    static func moveLinksOutOfStates(_ db: Database) throws {
        let encoder = JSONEncoder()
        for state in try readAll(db) {
            _ = try write(state, written: nil, encoder: encoder, db)
        }
    }
}

/// What `ChainLinkRows.write` last stored for one chain.
struct StoredLinks: Sendable, Hashable {
    /// The chain's verified count when written.
    var verifiedCount: Int64
    /// Links stored.
    var count: Int
    /// Hash of the last link stored.
    var lastHash: Hash256?
}
