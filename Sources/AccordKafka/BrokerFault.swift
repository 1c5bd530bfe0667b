/// One fault to inject into the embedded cluster: what `accord broker --fault-port` takes over
/// HTTP and what `accord chaos` plays during an ingest.
public enum BrokerFault: Sendable, Equatable, CustomStringConvertible {
    /// Broker `broker` closes its connections and refuses new ones.
    case brokerDown(broker: Int32)
    /// Broker `broker` takes connections again.
    case brokerUp(broker: Int32)
    /// Every response of broker `broker` is delayed by `milliseconds` (0 removes the delay).
    case roundTripTime(broker: Int32, milliseconds: Int32)
    /// The leader of `topic`'s partition `partition` moves to broker `broker`.
    case leader(topic: String, partition: Int32, broker: Int32)
    /// The next `count` requests of `api`, from any client, fail with `error`.
    case requestErrors(api: EmbeddedKafkaCluster.APIKey, error: EmbeddedKafkaCluster.ProtocolError, count: Int)

    /// The fault's kind, as the HTTP API names it (`broker-down`, `request-errors`, …).
    public var kind: String {
        switch self {
        case .brokerDown: "broker-down"
        case .brokerUp: "broker-up"
        case .roundTripTime: "round-trip-time"
        case .leader: "leader"
        case .requestErrors: "request-errors"
        }
    }

    /// One line naming the fault and its arguments.
    public var description: String {
        switch self {
        case .brokerDown(let broker): "broker \(broker) down"
        case .brokerUp(let broker): "broker \(broker) up"
        case .roundTripTime(let broker, let milliseconds): "broker \(broker) round trip \(milliseconds) ms"
        case .leader(let topic, let partition, let broker): "leader of \(topic)[\(partition)] to broker \(broker)"
        case .requestErrors(let api, let error, let count): "\(count) \(api.name) requests fail with \(error.name)"
        }
    }
}

extension EmbeddedKafkaCluster.APIKey {
    /// The API's name in kebab case (`produce`, `offset-commit`, `join-group`, …).
    public var name: String { Self.kebab("\(self)") }

    /// The API called `name` (as ``name`` spells it), if any.
    public init?(name: String) {
        guard let found = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = found
    }

    /// `initProducerID` → `init-producer-id`: a hyphen before each run of capitals.
    static func kebab(_ camel: String) -> String {
        var out = ""
        var previousUpper = false
        for character in camel {
            if character.isUppercase, !previousUpper { out += "-" }
            out += character.lowercased()
            previousUpper = character.isUppercase
        }
        return out
    }
}

extension EmbeddedKafkaCluster.ProtocolError {
    /// The error's name in kebab case (`not-leader-or-follower`, `request-timed-out`, …).
    public var name: String { EmbeddedKafkaCluster.APIKey.kebab("\(self)") }

    /// The error called `name` (as ``name`` spells it), if any.
    public init?(name: String) {
        guard let found = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = found
    }
}

extension EmbeddedKafkaCluster {
    /// Injects `fault`; throws when the cluster refuses it (an unknown broker, topic or partition).
    public func inject(_ fault: BrokerFault) throws {
        switch fault {
        case .brokerDown(let broker): try setBrokerDown(broker)
        case .brokerUp(let broker): try setBrokerUp(broker)
        case .roundTripTime(let broker, let milliseconds): try setRoundTripTime(broker: broker, milliseconds: milliseconds)
        case .leader(let topic, let partition, let broker): try setPartitionLeader(topic: topic, partition: partition, broker: broker)
        case .requestErrors(let api, let error, let count):
            guard count >= 1 else { throw KafkaError(kind: .mockCluster, message: "an error count must be at least 1, got \(count)") }
            pushRequestErrors(api, Array(repeating: error, count: count))
        }
    }
}

/// A fault as JSON: `{"fault": "broker-down", "broker": 2}`,
/// `{"fault": "round-trip-time", "broker": 1, "milliseconds": 400}`,
/// `{"fault": "leader", "topic": "accord.probation.v1", "partition": 3, "broker": 2}`,
/// `{"fault": "request-errors", "api": "produce", "error": "not-leader-or-follower", "count": 5}`.
extension BrokerFault: Codable {
    private enum Field: String, CodingKey {
        case fault, broker, milliseconds, topic, partition, api, error, count
    }

    /// Every fault kind the JSON form takes.
    public static let kinds = ["broker-down", "broker-up", "round-trip-time", "leader", "request-errors"]

    /// Reads the JSON form; an unknown kind, API or error is named with the ones that exist.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Field.self)
        let kind = try container.decode(String.self, forKey: .fault)
        switch kind {
        case "broker-down": self = .brokerDown(broker: try container.decode(Int32.self, forKey: .broker))
        case "broker-up": self = .brokerUp(broker: try container.decode(Int32.self, forKey: .broker))
        case "round-trip-time":
            self = .roundTripTime(broker: try container.decode(Int32.self, forKey: .broker),
                                  milliseconds: try container.decode(Int32.self, forKey: .milliseconds))
        case "leader":
            self = .leader(topic: try container.decode(String.self, forKey: .topic),
                           partition: try container.decode(Int32.self, forKey: .partition),
                           broker: try container.decode(Int32.self, forKey: .broker))
        case "request-errors":
            let apiName = try container.decode(String.self, forKey: .api)
            guard let api = EmbeddedKafkaCluster.APIKey(name: apiName) else {
                throw DecodingError.dataCorruptedError(forKey: .api, in: container, debugDescription:
                    "unknown API \"\(apiName)\"; one of \(EmbeddedKafkaCluster.APIKey.allCases.map(\.name).joined(separator: ", "))")
            }
            let errorName = try container.decode(String.self, forKey: .error)
            guard let error = EmbeddedKafkaCluster.ProtocolError(name: errorName) else {
                throw DecodingError.dataCorruptedError(forKey: .error, in: container, debugDescription:
                    "unknown error \"\(errorName)\"; one of \(EmbeddedKafkaCluster.ProtocolError.allCases.map(\.name).joined(separator: ", "))")
            }
            self = .requestErrors(api: api, error: error, count: try container.decodeIfPresent(Int.self, forKey: .count) ?? 1)
        default:
            throw DecodingError.dataCorruptedError(forKey: .fault, in: container, debugDescription:
                "unknown fault \"\(kind)\"; one of \(Self.kinds.joined(separator: ", "))")
        }
    }

    /// Writes the JSON form.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Field.self)
        try container.encode(kind, forKey: .fault)
        switch self {
        case .brokerDown(let broker), .brokerUp(let broker):
            try container.encode(broker, forKey: .broker)
        case .roundTripTime(let broker, let milliseconds):
            try container.encode(broker, forKey: .broker)
            try container.encode(milliseconds, forKey: .milliseconds)
        case .leader(let topic, let partition, let broker):
            try container.encode(topic, forKey: .topic)
            try container.encode(partition, forKey: .partition)
            try container.encode(broker, forKey: .broker)
        case .requestErrors(let api, let error, let count):
            try container.encode(api.name, forKey: .api)
            try container.encode(error.name, forKey: .error)
            try container.encode(count, forKey: .count)
        }
    }
}
