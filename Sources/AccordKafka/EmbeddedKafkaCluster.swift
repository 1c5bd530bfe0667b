import CRdKafka
import Logging
import Synchronization

/// librdkafka's mock Kafka cluster: real Kafka protocol over TCP on 127.0.0.1, in
/// memory (about 5 MB retained per partition), with fault injection. For tests and
/// the demo; not a system of record.
public final class EmbeddedKafkaCluster: Sendable {
    /// Kafka protocol API keys that faults can be injected into.
    public enum APIKey: Int16, Sendable, CaseIterable {
        /// Produce requests.
        case produce = 0
        /// Fetch requests.
        case fetch = 1
        /// ListOffsets requests.
        case listOffsets = 2
        /// Metadata requests.
        case metadata = 3
        /// OffsetCommit requests.
        case offsetCommit = 8
        /// OffsetFetch requests.
        case offsetFetch = 9
        /// FindCoordinator requests.
        case findCoordinator = 10
        /// JoinGroup requests.
        case joinGroup = 11
        /// Heartbeat requests.
        case heartbeat = 12
        /// SyncGroup requests.
        case syncGroup = 14
        /// InitProducerId requests.
        case initProducerID = 22
    }

    /// Kafka protocol error codes commonly injected in tests.
    public enum ProtocolError: Int32, Sendable, CaseIterable {
        /// LEADER_NOT_AVAILABLE (retriable).
        case leaderNotAvailable = 5
        /// NOT_LEADER_OR_FOLLOWER (retriable).
        case notLeaderOrFollower = 6
        /// REQUEST_TIMED_OUT (retriable).
        case requestTimedOut = 7
        /// NETWORK_EXCEPTION (retriable).
        case networkException = 13
        /// COORDINATOR_LOAD_IN_PROGRESS (retriable).
        case coordinatorLoadInProgress = 14
        /// COORDINATOR_NOT_AVAILABLE (retriable).
        case coordinatorNotAvailable = 15
        /// NOT_COORDINATOR (retriable).
        case notCoordinator = 16
        /// NOT_ENOUGH_REPLICAS (retriable).
        case notEnoughReplicas = 19
        /// NOT_ENOUGH_REPLICAS_AFTER_APPEND (retriable).
        case notEnoughReplicasAfterAppend = 20
    }

    private let owner: ClientHandle
    private let cluster: UncheckedPointer
    private let stopped = Atomic<Bool>(false)

    /// Comma-separated `host:port` bootstrap list of the mock brokers (all on 127.0.0.1).
    public let bootstrapServers: String
    /// Number of brokers; broker ids run from 1 to this count.
    public let brokerCount: Int

    /// Consumer-group timings suited to the mock cluster, whose group coordinator waits up to
    /// the session timeout for members to rejoin on every rebalance (45 s by default).
    public static let consumerGroupProperties: [String: String] = [
        "session.timeout.ms": "6000",
        "heartbeat.interval.ms": "500",
    ]

    /// Starts a mock cluster of `brokers` brokers on loopback.
    public init(brokers: Int = 1, logger: Logger = Logger(label: "accord.kafka.embedded")) throws {
        guard brokers >= 1 else {
            throw KafkaError(kind: .mockCluster, message: "broker count must be at least 1, got \(brokers)")
        }
        owner = try ClientHandle(type: RD_KAFKA_PRODUCER,
                                 config: KafkaConfig(["client.id": "accord-embedded-cluster"]),
                                 context: ClientContext(logger: logger))
        guard let cluster = rd_kafka_mock_cluster_new(owner.pointer, Int32(brokers)) else {
            owner.destroy()
            throw KafkaError(kind: .mockCluster, message: "could not start the mock cluster")
        }
        self.cluster = UncheckedPointer(cluster)
        self.bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
        self.brokerCount = brokers
    }

    /// Creates a topic (idempotent for an existing topic with the same partition count).
    public func createTopic(_ spec: TopicSpec) throws {
        try check(rd_kafka_mock_topic_create(cluster.value, spec.name, spec.partitions,
                                             min(spec.replicationFactor, Int32(brokerCount))),
                  "create topic \(spec.name)")
    }

    /// Takes broker `id` down: its connections close and it refuses new ones.
    public func setBrokerDown(_ id: Int32) throws {
        try check(rd_kafka_mock_broker_set_down(cluster.value, id), "broker \(id) down")
    }

    /// Brings broker `id` back up.
    public func setBrokerUp(_ id: Int32) throws {
        try check(rd_kafka_mock_broker_set_up(cluster.value, id), "broker \(id) up")
    }

    /// Adds round-trip latency to every response of broker `id`.
    public func setRoundTripTime(broker id: Int32, milliseconds: Int32) throws {
        try check(rd_kafka_mock_broker_set_rtt(cluster.value, id, milliseconds), "broker \(id) rtt")
    }

    /// Makes the next requests of `api` fail, one error per request, in order.
    public func pushRequestErrors(_ api: APIKey, _ errors: [ProtocolError]) {
        let native = errors.map { rd_kafka_resp_err_t(rawValue: $0.rawValue) }
        native.withUnsafeBufferPointer { buffer in
            rd_kafka_mock_push_request_errors_array(cluster.value, api.rawValue, buffer.count, buffer.baseAddress)
        }
    }

    /// Moves the leader of one partition to broker `id`.
    public func setPartitionLeader(topic: String, partition: Int32, broker id: Int32) throws {
        try check(rd_kafka_mock_partition_set_leader(cluster.value, topic, partition, id), "leader of \(topic)[\(partition)]")
    }

    private func check(_ error: rd_kafka_resp_err_t, _ what: String) throws {
        if error.isError { throw KafkaError(kind: .mockCluster, error: error, context: what) }
    }

    /// Stops the brokers and releases the cluster (also done on deinit).
    public func shutdown() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        rd_kafka_mock_cluster_destroy(cluster.value)
        owner.destroy()
    }

    deinit { shutdown() }
}
