import AccordEvents

/// Where the projection engine reads subject state it does not hold in its cache: the store's
/// side of the seam between the pure projection and its storage (SQLite, PostgreSQL, memory).
/// Every method returns what was last committed.
public protocol ViewStateSource {
    /// A case's facts, or nil when the case is not in the view.
    func caseFacts(_ caseId: String) throws -> FactList?
    /// A contract's own facts (award, variations, end), or nil.
    func contractFacts(_ contractId: String) throws -> FactList?
    /// An area's facts (local priorities), or nil.
    func areaFacts(_ area: String) throws -> FactList?
    /// A source's delivered sequence numbers, or nil.
    func sourceSequence(_ urn: String) throws -> SourceSequence?
    /// Every referral row under a contract.
    func referralRows(contractId: String) throws -> [ReferralRow]
}

/// Encodes and decodes subject states for storage.
public enum SubjectStateCoding {
    /// The bytes of a subject's fact list (format `FactCoding.version`).
    public static func encode(_ facts: FactList, subject: String) -> [UInt8] {
        var w = BinaryWriter(capacity: 64 * max(facts.count, 1))
        w.varint(UInt64(FactCoding.version))
        FactCoding.write(facts, subject: subject, into: &w)
        return w.bytes
    }

    /// A subject's fact list from its bytes.
    public static func decodeFacts(_ bytes: [UInt8], subject: String) throws(BinaryDecodingError) -> FactList {
        var r = BinaryReader(bytes)
        let version = try r.varint()
        guard version == UInt64(FactCoding.version) else {
            throw BinaryDecodingError("state format \(version), expected \(FactCoding.version): rebuild the view")
        }
        return try FactCoding.readList(&r, subject: subject)
    }

    /// The bytes of a source's sequence state.
    public static func encode(_ sequence: SourceSequence) -> [UInt8] {
        var w = BinaryWriter(capacity: 32 + 48 * sequence.ranges.count)
        w.varint(UInt64(FactCoding.version))
        w.varint(UInt64(sequence.ranges.count))
        for r in sequence.ranges {
            w.int(r.lo)
            w.int(r.hi)
            w.timestamp(r.firstAt)
            w.string(r.firstEventId)
        }
        return w.bytes
    }

    /// A source's sequence state from its bytes.
    public static func decodeSequence(_ bytes: [UInt8], source: EventSource) throws(BinaryDecodingError) -> SourceSequence {
        var r = BinaryReader(bytes)
        let version = try r.varint()
        guard version == UInt64(FactCoding.version) else {
            throw BinaryDecodingError("state format \(version), expected \(FactCoding.version): rebuild the view")
        }
        let count = Int(truncatingIfNeeded: try r.varint())
        guard count >= 0, count < 10_000_000 else { throw BinaryDecodingError("implausible range count \(count)") }
        var ranges: [SequenceRange] = []
        ranges.reserveCapacity(count)
        for _ in 0..<count {
            ranges.append(SequenceRange(lo: try r.int64(), hi: try r.int64(), firstAt: try r.timestamp(),
                                        firstEventId: try r.string()))
        }
        return SourceSequence(source: source, ranges: ranges)
    }
}
