import AccordIntegrity
import AccordStore
import AccordTestSupport
import Foundation
import GRDB
import Testing

/// Chain verifier states are stored as a fixed-size head plus one row per unverified link, and
/// read back exactly, whether the links were appended batch by batch, settled by a checkpoint, or
/// written by a writer that restarted.
@Suite("Chain states: links stored one row each")
struct ChainLinkRowsTests {
    static let chain = ChainID(source: "urn:accord:probation:nps-london", topic: "probation.case-events.v1", partition: 3)

    static func links(_ positions: ClosedRange<Int64>) -> [ChainLink] {
        positions.map { p in
            ChainLink(chain: chain, position: p, hash: Hash256.sha256([UInt8(truncatingIfNeeded: p)]),
                      prevHash: p == 1 ? .zero : Hash256.sha256([UInt8(truncatingIfNeeded: p - 1)]),
                      sequence: p * 2, offset: p * 10, forked: p == 4)
        }
    }

    /// A state whose first `verified` positions are covered by a checkpoint and which holds `links`.
    static func state(verified: Int64, links: [ChainLink], lastOffset: Int64) throws -> ChainState {
        let json = """
            {"chain":{"source":"\(chain.source)","topic":"\(chain.topic)","partition":\(chain.partition)},
             "verifiedCount":\(verified),"verifiedHead":"\(verified == 0 ? Hash256.zero.hex : Hash256.sha256([UInt8(verified)]).hex)",
             "verifiedSequence":\(verified * 2),"lastOffset":\(lastOffset),"unverified":[]}
            """
        let head = try JSONDecoder().decode(ChainState.self, from: Data(json.utf8))
        return ChainState(restoring: head, unverified: links)
    }

    static func linkRows(_ store: ProjectorStore) throws -> Int {
        try store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM chain_links") ?? 0 }
    }

    static func commit(_ writer: inout ViewStoreWriter, _ state: ChainState) throws {
        var batch = StoreBatch()
        batch.chainStates = [state]
        _ = try writer.commit(batch)
    }

    @Test("appended, settled and restarted states read back equal, with only the unverified links stored")
    func roundTrips() throws {
        let path = TemporaryPaths.file("accord-chain-links")
        defer { TemporaryPaths.removeStore(path) }
        var writer = try ViewStoreWriter(store: try ProjectorStore(path: path), rules: .defaults)
        let three = try Self.state(verified: 0, links: Self.links(1...3), lastOffset: 30)
        try Self.commit(&writer, three)
        #expect(try writer.store.chainStates() == [three])

        let five = try Self.state(verified: 0, links: Self.links(1...5), lastOffset: 50)
        try Self.commit(&writer, five)
        #expect(try writer.store.chainStates() == [five])
        #expect(try writer.store.chainStates().first?.unverified.map(\.forked) == [false, false, false, true, false])
        #expect(try Self.linkRows(writer.store) == 5)

        let settled = try Self.state(verified: 3, links: Self.links(4...6), lastOffset: 60)
        try Self.commit(&writer, settled)
        #expect(try writer.store.chainStates() == [settled])
        #expect(try Self.linkRows(writer.store) == 3, "links covered by the checkpoint are gone")

        var restarted = try ViewStoreWriter(store: try ProjectorStore(path: path), rules: .defaults)
        let later = try Self.state(verified: 3, links: Self.links(4...8), lastOffset: 80)
        try Self.commit(&restarted, later)
        #expect(try ProjectorStore(path: path).chainStates() == [later])
        #expect(try Self.linkRows(restarted.store) == 5)

        let checkpointed = try Self.state(verified: 8, links: [], lastOffset: 81)
        try Self.commit(&restarted, checkpointed)
        #expect(try ProjectorStore(path: path).chainStates() == [checkpointed])
        #expect(try Self.linkRows(restarted.store) == 0)
    }
}
