import AccordKafka
import Foundation
import Testing

@Suite("Admin client", .tags(.broker))
struct AdminTests {
    // The time limit only guards against a hang; how long the call takes is not asserted (a
    // loaded machine may take longer than the 2 s asked for).
    @Test("CreateTopics against the mock cluster (which does not answer it) fails with a clear admin error, not a hang",
          .timeLimit(.minutes(2)))
    func createTopicsTimesOutCleanly() async throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        defer { cluster.shutdown() }
        let admin = try KafkaAdmin(bootstrapServers: cluster.bootstrapServers)
        let error = await #expect(throws: KafkaError.self) {
            try await admin.createTopics([TopicSpec(name: "new-topic", partitions: 3, config: ["min.insync.replicas": "1"])],
                                         timeout: .seconds(2))
        }
        #expect(error?.kind == .admin)
        #expect(error?.message.contains("CreateTopics") == true, "\(error?.message ?? "")")
        await admin.close()
    }

    @Test("a topic spec with an invalid partition count is refused before anything is sent")
    func invalidSpecIsRefused() async throws {
        let admin = try KafkaAdmin(bootstrapServers: "127.0.0.1:1")
        let error = await #expect(throws: KafkaError.self) {
            try await admin.createTopics([TopicSpec(name: "bad", partitions: -5)], timeout: .seconds(1))
        }
        #expect(error?.kind == .admin)
        #expect(error?.message.contains("bad") == true)
        await admin.close()
    }
}
