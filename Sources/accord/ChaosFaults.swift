import AccordEvents
import AccordKafka
import AccordSimulation

/// One broker fault `accord chaos` plays through the embedded broker's fault control: each
/// kind the mock cluster can inject, an episode that ends where it started (a broker taken down
/// comes back up, a round-trip delay is removed).
enum ChaosFault: String, CaseIterable, Sendable {
    /// One broker down for a few seconds, then up again.
    case brokerDown = "broker down and up"
    /// The leaders of a few partitions move to other brokers.
    case leaderMoves = "leader moves"
    /// The next Produce requests fail with retriable errors.
    case produceErrors = "Produce errors"
    /// The next Fetch requests fail with retriable errors.
    case fetchErrors = "Fetch errors"
    /// The next OffsetCommit requests fail with coordinator errors.
    case offsetCommitErrors = "OffsetCommit errors"
    /// The next JoinGroup requests fail with coordinator errors (a restarted consumer meets them).
    case joinGroupErrors = "JoinGroup errors"
    /// Every broker answers a few hundred milliseconds late for a few seconds.
    case roundTripTime = "high round-trip times"

    /// Brokers the chaos cluster runs when it injects broker faults, so one can be down and a
    /// leader has somewhere to move.
    static let brokers = 3

    /// The `count` faults of a run: every kind in turn, so a run of at least
    /// `allCases.count` faults tries each.
    static func schedule(_ count: Int) -> [ChaosFault] {
        (0..<count).map { allCases[$0 % allCases.count] }
    }

    /// Plays the episode against `stack`'s broker.
    func play(on stack: DemoStack, using random: inout SplitMix64) async throws {
        let broker = Int32.random(in: 1...Int32(Self.brokers), using: &random)
        switch self {
        case .brokerDown:
            try await stack.inject(.brokerDown(broker: broker))
            try await Task.sleep(for: .milliseconds(Int.random(in: 1_000...4_000, using: &random)))
            try await stack.inject(.brokerUp(broker: broker))
        case .leaderMoves:
            let topics = AccordTopic.all.map(\.name)
            for _ in 0..<3 {
                let topic = topics[Int.random(in: 0..<topics.count, using: &random)]
                let partition = Int32.random(in: 0..<Int32(stack.partitions), using: &random)
                try await stack.inject(.leader(topic: topic, partition: partition,
                                               broker: Int32.random(in: 1...Int32(Self.brokers), using: &random)))
            }
        case .produceErrors:
            try await pushErrors(.produce, [.notLeaderOrFollower, .leaderNotAvailable, .notEnoughReplicas,
                                            .notEnoughReplicasAfterAppend, .requestTimedOut], on: stack, using: &random)
        case .fetchErrors:
            try await pushErrors(.fetch, [.notLeaderOrFollower, .leaderNotAvailable, .requestTimedOut], on: stack, using: &random)
        case .offsetCommitErrors:
            try await pushErrors(.offsetCommit, [.coordinatorNotAvailable, .notCoordinator, .requestTimedOut],
                                 on: stack, using: &random)
        case .joinGroupErrors:
            try await pushErrors(.joinGroup, [.coordinatorNotAvailable, .notCoordinator, .coordinatorLoadInProgress],
                                 on: stack, using: &random)
        case .roundTripTime:
            let delay = Int32.random(in: 200...600, using: &random)
            for id in 1...Int32(Self.brokers) { try await stack.inject(.roundTripTime(broker: id, milliseconds: delay)) }
            try await Task.sleep(for: .milliseconds(Int.random(in: 2_000...5_000, using: &random)))
            for id in 1...Int32(Self.brokers) { try await stack.inject(.roundTripTime(broker: id, milliseconds: 0)) }
        }
    }

    private func pushErrors(_ api: EmbeddedKafkaCluster.APIKey, _ errors: [EmbeddedKafkaCluster.ProtocolError],
                            on stack: DemoStack, using random: inout SplitMix64) async throws {
        let error = errors[Int.random(in: 0..<errors.count, using: &random)]
        try await stack.inject(.requestErrors(api: api, error: error, count: Int.random(in: 3...10, using: &random)))
    }
}
