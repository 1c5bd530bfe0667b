import AccordKafka
import Foundation
import Testing

@Suite("Admin client")
struct AdminTests {
    @Test("CreateTopics against the mock cluster (which does not answer it) fails with a clear admin error, not a hang")
    func createTopicsTimesOutCleanly() async throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        defer { cluster.shutdown() }
        let admin = try KafkaAdmin(bootstrapServers: cluster.bootstrapServers)
        let started = ContinuousClock.now
        let error = await #expect(throws: KafkaError.self) {
            try await admin.createTopics([TopicSpec(name: "new-topic", partitions: 3, config: ["min.insync.replicas": "1"])],
                                         timeout: .seconds(2))
        }
        #expect(error?.kind == .admin)
        #expect(ContinuousClock.now - started < .seconds(15), "the deadline is honoured")
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
