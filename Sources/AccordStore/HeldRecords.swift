import AccordEvents
import AccordIntegrity
import AccordProjection
import Foundation
import GRDB

/// A record of a chain with a gap, kept exactly as read until the missing events are fetched
/// from the chain's source: then it is given back, in offset order, to be checked and applied.
public struct HeldRecord: Sendable, Hashable {
    /// The chain it belongs to (its `ce_source`, topic and partition).
    public var chain: ChainID
    /// Its Kafka offset.
    public var offset: Int64
    /// The record's key, headers and value as read.
    public var message: BinaryMessage
    /// The Kafka timestamp (ms since the epoch), if the record had one.
    public var timestampMilliseconds: Int64?
    /// When the projector held it (its clock).
    public var heldAt: Timestamp

    /// A held record.
    public init(chain: ChainID, offset: Int64, message: BinaryMessage, timestampMilliseconds: Int64?, heldAt: Timestamp) {
        self.chain = chain
        self.offset = offset
        self.message = message
        self.timestampMilliseconds = timestampMilliseconds
        self.heldAt = heldAt
    }
}

extension ProjectorStore {
    /// The records held behind `chain`'s gap, in offset order.
    public func heldRecords(of chain: ChainID) throws -> [HeldRecord] {
        try pool.read { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                SELECT "offset", key, headers, value, timestamp_ms, held_ns FROM held_records
                WHERE source = ? AND topic = ? AND partition = ? ORDER BY "offset"
                """), arguments: [chain.source, chain.topic, Int64(chain.partition)]).map { row in
                let offset: Int64 = row[0]
                let headerBytes: Data = row[2]
                let headers: [MessageHeader]
                do {
                    headers = try HeaderCoding.decode(Array(headerBytes))
                } catch {
                    throw StoreError("held record \(chain.topic)/\(chain.partition)@\(offset): stored headers are not readable (\(error))")
                }
                let key = (row[1] as Data?).map { Array($0) }
                let value: Data = row[3]
                let heldNs: Int64 = row[5]
                guard let heldAt = Timestamp(nanosecondsSinceEpoch: heldNs) else {
                    throw StoreError("held record \(chain.topic)/\(chain.partition)@\(offset): stored time \(heldNs) is not an instant")
                }
                return HeldRecord(chain: chain, offset: offset, message: BinaryMessage(key: key, headers: headers, value: Array(value)),
                                  timestampMilliseconds: row[4], heldAt: heldAt)
            }
        }
    }

    /// How many records are held, per chain.
    public func heldCounts() throws -> [ChainID: Int] {
        try pool.read { db in
            var counts: [ChainID: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT source, topic, partition, COUNT(*) FROM held_records GROUP BY source, topic, partition") {
                let partition: Int64 = row[2]
                counts[ChainID(source: row[0], topic: row[1], partition: Int32(truncatingIfNeeded: partition))] = row[3]
            }
            return counts
        }
    }
}

enum HeldRecordRows {
    /// Stores `held` and deletes `released` in the batch's transaction.
    static func write(held: [HeldRecord], released: [RecordCoordinates], _ db: Database) throws {
        if !held.isEmpty {
            let insert = try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO held_records (topic, partition, "offset", source, key, headers, value, timestamp_ms, held_ns)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for record in held {
                try insert.execute(arguments: [record.chain.topic, Int64(record.chain.partition), record.offset, record.chain.source,
                                               record.message.key.map { Data($0) }, Data(HeaderCoding.encode(record.message.headers)),
                                               Data(record.message.value), record.timestampMilliseconds,
                                               record.heldAt.nanosecondsSinceEpoch])
            }
        }
        if !released.isEmpty {
            let delete = try db.cachedStatement(sql: "DELETE FROM held_records WHERE topic = ? AND partition = ? AND \"offset\" = ?")
            for release in released {
                try delete.execute(arguments: [release.topic, Int64(release.partition), release.offset])
            }
        }
    }
}
