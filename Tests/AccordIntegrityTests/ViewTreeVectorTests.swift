import AccordIntegrity
import Foundation
import Testing

/// The golden vectors of `schemas/integrity.md` §11, computed independently by `scripts/view_vectors.py`.
struct ViewVectors: Decodable {
    struct Node: Decodable {
        let left: Hash256
        let right: Hash256
        let hash: Hash256
    }
    struct Leaf: Decodable {
        let key: String
        let leaf: Hash256
    }
    struct Shared: Decodable {
        let bucket: Int
        let leaves: [Leaf]
        let hash: Hash256
    }
    struct Record: Decodable {
        let key: String
        let canonical: String
        let bucket: Int
        let leaf: Hash256
        let bucketHash: Hash256
        let path: [Hash256]
    }
    let emptyBucket: Hash256
    let emptyRoot: Hash256
    let node: Node
    let sharedBucket: Shared
    let records: [Record]
    let root: Hash256

    static func load() throws -> ViewVectors {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("schemas/integrity/view-vectors.json")
        return try JSONDecoder().decode(ViewVectors.self, from: Data(contentsOf: url))
    }
}

@Suite("View digest tree: golden vectors of integrity.md §11")
struct ViewTreeVectorTests {
    @Test("empty bucket, empty root and an inner node")
    func primitives() throws {
        let v = try ViewVectors.load()
        #expect(ViewTree.bucketHash([]) == v.emptyBucket)
        #expect(ViewTree.emptyRoot == v.emptyRoot)
        var empty = ViewTree()
        #expect(empty.root() == v.emptyRoot)
        #expect(ViewTree.node(v.node.left, v.node.right) == v.node.hash)
        #expect(ViewTree.node(v.node.right, v.node.left) != v.node.hash, "order matters")
    }

    @Test("two keys of one bucket are hashed in key order, whatever order they are given in")
    func sharedBucket() throws {
        let v = try ViewVectors.load()
        let leaves = v.sharedBucket.leaves.map { (key: $0.key, leaf: $0.leaf) }
        for leaf in leaves { #expect(ViewTree.bucket(of: leaf.key) == v.sharedBucket.bucket) }
        #expect(ViewTree.bucketHash(leaves) == v.sharedBucket.hash)
        #expect(ViewTree.bucketHash(leaves.reversed()) == v.sharedBucket.hash)
    }

    @Test("each record's bucket, leaf, bucket hash and path; the root of the three; each proof verifies")
    func records() throws {
        let v = try ViewVectors.load()
        var tree = ViewTree()
        var byBucket: [Int: [(key: String, leaf: Hash256)]] = [:]
        for r in v.records {
            #expect(ViewTree.bucket(of: r.key) == r.bucket, "bucket of \(r.key)")
            #expect(ViewTree.leaf(key: r.key, canonicalJSON: Array(r.canonical.utf8)) == r.leaf, "leaf of \(r.key)")
            byBucket[r.bucket, default: []].append((r.key, r.leaf))
        }
        for (bucket, leaves) in byBucket { tree.setBucket(bucket, leaves: leaves) }
        #expect(tree.root() == v.root)
        for r in v.records {
            #expect(tree.bucketHash(r.bucket) == r.bucketHash)
            #expect(tree.path(bucket: r.bucket) == r.path, "path of \(r.key)")
            let proof = ViewProof(key: r.key, bucket: r.bucket,
                                  bucketLeaves: (byBucket[r.bucket] ?? []).map { ProofLeaf(key: $0.key, leaf: $0.leaf) },
                                  path: r.path, root: v.root)
            #expect(throws: Never.self) { try proof.verify(canonicalJSON: Array(r.canonical.utf8)).get() }
            #expect((try? proof.verify(canonicalJSON: Array((r.canonical + " ").utf8)).get()) == nil, "other bytes do not verify")
        }
    }
}
