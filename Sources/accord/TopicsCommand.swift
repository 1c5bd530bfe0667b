import AccordEvents
import AccordKafka
import ArgumentParser
import Logging

/// `accord topics`: manages Accord's topics on a real Kafka cluster.
struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "Manage Accord's topics on a Kafka cluster.",
        subcommands: [Create.self, List.self]
    )

    /// `accord topics create`: creates every Accord topic through the Kafka Admin API.
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create every Accord topic on a real Kafka cluster (Admin API CreateTopics); existing topics are kept.")

        @Option(help: "Bootstrap servers of the cluster, host:port[,host:port...].")
        var bootstrapServers: String

        @Option(help: "Partitions per topic.")
        var partitions: Int32 = 6

        @Option(help: "Replication factor.")
        var replicationFactor: Int32 = 3

        @Option(help: "min.insync.replicas for each topic.")
        var minInsyncReplicas: Int = 2

        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            logging.bootstrap()
            let admin = try KafkaAdmin(bootstrapServers: bootstrapServers)
            let specs = AccordTopic.all.map {
                TopicSpec(name: $0.name, partitions: partitions, replicationFactor: replicationFactor,
                          config: ["min.insync.replicas": "\(minInsyncReplicas)"])
            }
            do {
                let created = try await admin.createTopics(specs)
                await admin.close()
                for topic in AccordTopic.all {
                    print("\(topic.name)\t\(created.contains(topic.name) ? "created" : "exists")")
                }
            } catch {
                await admin.close()
                throw error
            }
        }
    }

    /// `accord topics list`: prints Accord's topics, owners and keys.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print Accord's topics with their owner and key.")

        func run() {
            for topic in AccordTopic.all {
                print("\(topic.name)\towner=\(topic.owner?.rawValue ?? "accord")\tkey=\(topic.keyDescription)")
            }
        }
    }
}
