import AccordEvents

/// One hash chain: the events of one source on one partition of one topic, in offset order.
///
/// The topic is part of the identity because one agency may own several topics (the
/// commissioner publishes on `commissioning.events.v1` and `police.outcome-events.v1`).
public struct ChainID: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The source URN, e.g. `urn:accord:probation:nps-london`.
    public let source: String
    /// The Kafka topic.
    public let topic: String
    /// The Kafka partition.
    public let partition: Int32

    /// Creates a chain identity.
    public init(source: String, topic: String, partition: Int32) {
        self.source = source
        self.topic = topic
        self.partition = partition
    }

    /// `source@topic/partition`.
    public var description: String { "\(source)@\(topic)/\(partition)" }
}

/// An event sealed into its chain by a `ChainWriter`: send `message` exactly as it is.
public struct SealedEvent: Sendable, Hashable {
    /// The event with `prevHash` set to the chain head it extends.
    public let event: AccordEvent
    /// The binary-mode record to produce (to `chain.topic`, partition `chain.partition`).
    public let message: BinaryMessage
    /// The event's hash: the chain's new head.
    public let hash: Hash256
    /// The event's position in the chain (1 for the first).
    public let position: Int64
}

/// The producer's side of one chain: its head, its length and its last sequence.
///
/// A value type: persist it with the outbox (it is `Codable`) and restore it on restart, so the
/// chain continues where it stopped. One writer per `(source, topic, partition)`; compute the
/// partition with `KafkaPartitioner.murmur2(key:partitions:)` from the event's key.
public struct ChainWriter: Sendable, Hashable, Codable {
    /// The chain this writer extends.
    public let chain: ChainID
    /// The hash of the last event appended, or `Hash256.zero` for an empty chain.
    public private(set) var head: Hash256
    /// How many events the chain holds.
    public private(set) var count: Int64
    /// The `sequence` of the last event appended, 0 for an empty chain.
    public private(set) var lastSequence: Int64

    /// Starts an empty chain (genesis head `0000…`).
    public init(chain: ChainID) {
        self.init(chain: chain, head: .zero, count: 0, lastSequence: 0)
    }

    /// Resumes a chain from stored state.
    public init(chain: ChainID, head: Hash256, count: Int64, lastSequence: Int64) {
        self.chain = chain
        self.head = head
        self.count = count
        self.lastSequence = lastSequence
    }

    /// The `ce_prevhash` value for the next event: the head as 64 lower-case hex digits.
    public var nextPrevHash: String { head.hex }

    /// Sets the event's `prevHash` to the head, encodes it with `codec`, hashes the exact
    /// message and appends it. The event must come from `chain.source` with a sequence above
    /// `lastSequence`.
    public mutating func seal(_ event: AccordEvent, codec: EventCodec) throws(IntegrityError) -> SealedEvent {
        var linked = event
        linked.prevHash = nextPrevHash
        let (message, hashed) = try EventHashing.hash(event: linked, codec: codec)
        try append(hashed)
        return SealedEvent(event: linked, message: message, hash: hashed.hash, position: count)
    }

    /// Appends an already hashed event (e.g. a message built elsewhere and hashed with
    /// `EventHashing.hash(message:)`). Its `ce_prevhash` must be the head, its `ce_source` the
    /// chain's source and its `ce_sequence` above `lastSequence`; otherwise nothing changes.
    public mutating func append(_ hashed: HashedEvent) throws(IntegrityError) {
        guard hashed.source == chain.source else {
            throw IntegrityError(.invalidValue, field: "ce_source",
                                 "\(hashed.source ?? "(none)") is not the chain's source \(chain.source)")
        }
        guard let text = hashed.prevHash else {
            throw IntegrityError(.missing, field: "ce_prevhash", "event has no prevhash; set it to nextPrevHash")
        }
        guard text == nextPrevHash else {
            throw IntegrityError(.brokenChain, field: "ce_prevhash", "expected \(nextPrevHash) got \(text.prefix(80))")
        }
        guard let sequence = ChainWriter.parseSequence(hashed.sequence), sequence > lastSequence else {
            throw IntegrityError(.invalidValue, field: "ce_sequence",
                                 "\(hashed.sequence ?? "(none)") is not a sequence above \(lastSequence)")
        }
        head = hashed.hash
        count += 1
        lastSequence = sequence
    }

    /// A signed checkpoint over the current head, issued at `issuedAt` (the caller's clock).
    /// The key's signer must be the chain's source.
    public func checkpoint(issuedAt: Timestamp, key: AgencySigningKey) throws(IntegrityError) -> ChainCheckpoint {
        guard key.signer == chain.source else {
            throw IntegrityError(.keyFailure, field: "key", "key of \(key.signer) cannot sign for \(chain.source)")
        }
        return try ChainCheckpoint.signed(chain: chain, count: count, head: head, lastSequence: lastSequence,
                                          issuedAt: issuedAt, key: key)
    }

    /// Parses a decimal `ce_sequence` of digits only, ≥ 1.
    static func parseSequence(_ text: String?) -> Int64? {
        guard let text, !text.isEmpty, text.utf8.count <= 19,
              text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let value = Int64(text), value >= 1 else { return nil }
        return value
    }
}
