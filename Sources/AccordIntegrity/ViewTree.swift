import Crypto

/// The view digest: a Merkle tree over per-subject digests (`schemas/integrity.md` §11).
///
/// Every subject of the view (case, contract, area, source) has a **leaf**: the SHA-256 of its
/// key and the canonical JSON of its record. Leaves fall into one of 65,536 **buckets** by the
/// first two bytes of the SHA-256 of their key; a bucket's hash covers its leaves in key order.
/// A binary tree of depth 16 over the bucket hashes gives the **root**, which the signed journal
/// checkpoint names as its `viewDigest`. A change to one subject costs one bucket hash and 16
/// node hashes, and one subject's record can be proven against a signed root with the other
/// leaves of its bucket and 16 sibling hashes (`ViewProof`).
///
/// This value holds only the tree's nodes; the caller supplies a bucket's leaves whenever they
/// change (`setBucket`), from memory or from its store.
public struct ViewTree: Sendable, Equatable {
    /// Depth of the tree: 2^16 buckets.
    public static let depth = 16
    /// Number of buckets.
    public static let bucketCount = 1 << depth

    /// Heap-ordered nodes: index 1 is the root, node i has children 2i and 2i+1, bucket b is at 2^16 + b.
    private var nodes: [Hash256]
    /// Nodes whose hash must be recomputed before the root is read (bucket indices changed).
    private var dirtyBuckets: Set<Int> = []

    /// The tree of an empty view.
    public init() {
        nodes = ViewTree.emptyTree
    }

    /// A tree from stored bucket hashes (bucket index → hash; buckets not listed are empty).
    public init(bucketHashes: [Int: Hash256]) {
        nodes = ViewTree.emptyTree
        for (bucket, hash) in bucketHashes where (0..<ViewTree.bucketCount).contains(bucket) {
            nodes[ViewTree.bucketCount + bucket] = hash
            dirtyBuckets.insert(bucket)
        }
    }

    /// Sets a bucket's leaves (any order; an empty list empties it) and returns its new hash.
    @discardableResult
    public mutating func setBucket(_ bucket: Int, leaves: [(key: String, leaf: Hash256)]) -> Hash256 {
        let hash = ViewTree.bucketHash(leaves)
        let index = ViewTree.bucketCount + bucket
        if nodes[index] != hash {
            nodes[index] = hash
            dirtyBuckets.insert(bucket)
        }
        return hash
    }

    /// The hash of a bucket.
    public func bucketHash(_ bucket: Int) -> Hash256 { nodes[ViewTree.bucketCount + bucket] }

    /// The root, recomputing the nodes above changed buckets.
    public mutating func root() -> Hash256 {
        refresh()
        return nodes[1]
    }

    /// Recomputes the nodes above changed buckets, level by level.
    public mutating func refresh() {
        guard !dirtyBuckets.isEmpty else { return }
        var level = Set(dirtyBuckets.map { (ViewTree.bucketCount + $0) >> 1 })
        dirtyBuckets.removeAll(keepingCapacity: true)
        while !level.isEmpty {
            var next = Set<Int>()
            next.reserveCapacity(level.count / 2 + 1)
            for i in level {
                nodes[i] = ViewTree.node(nodes[2 * i], nodes[2 * i + 1])
                if i > 1 { next.insert(i >> 1) }
            }
            level = next
        }
    }

    /// The 16 sibling hashes from a bucket up to the root (bottom first).
    public mutating func path(bucket: Int) -> [Hash256] {
        refresh()
        var out: [Hash256] = []
        var i = ViewTree.bucketCount + bucket
        while i > 1 {
            out.append(nodes[i ^ 1])
            i >>= 1
        }
        return out
    }

    // MARK: hashing (schemas/integrity.md §11)

    /// The bucket a subject key falls into: the first two bytes of SHA-256(key), big endian.
    public static func bucket(of key: String) -> Int {
        let digest = SHA256.hash(data: Array(key.utf8))
        return digest.withUnsafeBytes { Int($0[0]) << 8 | Int($0[1]) }
    }

    /// A subject's leaf: SHA-256("accord-view-leaf-v1\n" ‖ key ‖ "\n" ‖ canonical JSON).
    public static func leaf(key: String, canonicalJSON: [UInt8]) -> Hash256 {
        var hasher = SHA256()
        hasher.update(data: leafPrefix)
        hasher.update(data: Array(key.utf8))
        hasher.update(data: newline)
        hasher.update(data: canonicalJSON)
        return Hash256(hasher.finalize())
    }

    /// A bucket's hash: SHA-256("accord-view-bucket-v1\n" ‖ for each leaf in key byte order:
    /// key ‖ "\n" ‖ leaf as 64 hex digits ‖ "\n").
    public static func bucketHash(_ leaves: [(key: String, leaf: Hash256)]) -> Hash256 {
        var hasher = SHA256()
        hasher.update(data: bucketPrefix)
        let sorted = leaves.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        var line: [UInt8] = []
        for entry in sorted {
            line.removeAll(keepingCapacity: true)
            line.append(contentsOf: entry.key.utf8)
            line.append(0x0a)
            entry.leaf.appendHex(to: &line)
            line.append(0x0a)
            hasher.update(data: line)
        }
        return Hash256(hasher.finalize())
    }

    /// An inner node: SHA-256(0x01 ‖ left ‖ right), over the 32-byte digests.
    public static func node(_ left: Hash256, _ right: Hash256) -> Hash256 {
        var bytes: [UInt8] = [0x01]
        bytes.reserveCapacity(65)
        bytes.append(contentsOf: left.bytes)
        bytes.append(contentsOf: right.bytes)
        return Hash256(SHA256.hash(data: bytes))
    }

    private static let leafPrefix = Array("accord-view-leaf-v1\n".utf8)
    private static let bucketPrefix = Array("accord-view-bucket-v1\n".utf8)
    private static let newline: [UInt8] = [0x0a]

    /// The hash of an empty bucket and of empty subtrees at each level, from the buckets up.
    public static let emptyLevels: [Hash256] = {
        var out = [bucketHash([])]
        for _ in 0..<depth { out.append(node(out[out.count - 1], out[out.count - 1])) }
        return out
    }()

    /// The root of an empty view.
    public static var emptyRoot: Hash256 { emptyLevels[depth] }

    private static let emptyTree: [Hash256] = {
        var nodes = [Hash256](repeating: .zero, count: 2 * bucketCount)
        for i in 1..<(2 * bucketCount) {
            // Level of node i counted from the buckets: buckets have bit length depth + 1.
            let bitLength = Int.bitWidth - i.leadingZeroBitCount
            nodes[i] = emptyLevels[depth + 1 - bitLength]
        }
        return nodes
    }()
}

/// An inclusion proof of one subject's record against a view root (`schemas/integrity.md` §11).
public struct ViewProof: Sendable, Hashable, Codable {
    /// The subject key, e.g. `case:X123456`.
    public var key: String
    /// The bucket index.
    public var bucket: Int
    /// Every leaf of the bucket (key and leaf hash), this subject's included.
    public var bucketLeaves: [ProofLeaf]
    /// The sibling hashes from the bucket up to the root, bottom first.
    public var path: [Hash256]
    /// The root the proof leads to.
    public var root: Hash256

    /// Creates a proof.
    public init(key: String, bucket: Int, bucketLeaves: [ProofLeaf], path: [Hash256], root: Hash256) {
        self.key = key
        self.bucket = bucket
        self.bucketLeaves = bucketLeaves
        self.path = path
        self.root = root
    }

    /// Checks that `canonicalJSON` is the record of `key` under `root`: its leaf is the bucket's
    /// leaf for the key, the bucket is the key's, and the path climbs to the root.
    public func verify(canonicalJSON: [UInt8]) -> Result<Void, ViewProofError> {
        guard bucket == ViewTree.bucket(of: key) else { return .failure(.wrongBucket(expected: ViewTree.bucket(of: key), found: bucket)) }
        let leaf = ViewTree.leaf(key: key, canonicalJSON: canonicalJSON)
        guard let listed = bucketLeaves.first(where: { $0.key == key }) else { return .failure(.keyNotInBucket(key)) }
        guard listed.leaf == leaf else { return .failure(.leafMismatch(expected: listed.leaf, computed: leaf)) }
        guard Set(bucketLeaves.map(\.key)).count == bucketLeaves.count else { return .failure(.duplicateKey) }
        for other in bucketLeaves where ViewTree.bucket(of: other.key) != bucket {
            return .failure(.foreignLeaf(other.key))
        }
        guard path.count == ViewTree.depth else { return .failure(.pathLength(path.count)) }
        var hash = ViewTree.bucketHash(bucketLeaves.map { ($0.key, $0.leaf) })
        var index = ViewTree.bucketCount + bucket
        for sibling in path {
            hash = index & 1 == 0 ? ViewTree.node(hash, sibling) : ViewTree.node(sibling, hash)
            index >>= 1
        }
        guard hash == root else { return .failure(.rootMismatch(expected: root, computed: hash)) }
        return .success(())
    }
}

/// One leaf of a proof's bucket.
public struct ProofLeaf: Sendable, Hashable, Codable {
    /// Subject key.
    public var key: String
    /// Leaf hash.
    public var leaf: Hash256

    /// Creates a leaf entry.
    public init(key: String, leaf: Hash256) {
        self.key = key
        self.leaf = leaf
    }
}

/// Why a view proof does not hold.
public enum ViewProofError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The proof names another bucket than the key's.
    case wrongBucket(expected: Int, found: Int)
    /// The key is not among the bucket's leaves.
    case keyNotInBucket(String)
    /// The record does not hash to the listed leaf.
    case leafMismatch(expected: Hash256, computed: Hash256)
    /// A key is listed twice.
    case duplicateKey
    /// A listed leaf belongs to another bucket.
    case foreignLeaf(String)
    /// The path does not have 16 hashes.
    case pathLength(Int)
    /// The path does not lead to the root.
    case rootMismatch(expected: Hash256, computed: Hash256)

    /// What is wrong.
    public var description: String {
        switch self {
        case .wrongBucket(let e, let f): "the proof names bucket \(f) but the key falls in bucket \(e)"
        case .keyNotInBucket(let k): "\(k) is not among the bucket's leaves"
        case .leafMismatch(let e, let c): "the record hashes to leaf \(c), the proof lists \(e)"
        case .duplicateKey: "a key is listed twice in the bucket"
        case .foreignLeaf(let k): "\(k) does not belong to this bucket"
        case .pathLength(let n): "the path has \(n) hashes, expected \(ViewTree.depth)"
        case .rootMismatch(let e, let c): "the path leads to \(c), not to the root \(e)"
        }
    }
}
