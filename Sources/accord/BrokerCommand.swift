import AccordEvents
import AccordKafka
import AccordHTTP
import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// `accord broker`: runs the embedded Kafka cluster with every Accord topic.
struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run the embedded Kafka broker (librdkafka mock cluster) on 127.0.0.1 with every Accord topic.",
        discussion: """
        Prints the bootstrap servers as the first line on stdout, then runs until SIGINT or SIGTERM.
        Data is kept in memory only (about 5 MB per partition): for demos and tests, not a system of record.
        """
    )

    @Option(help: "Number of brokers in the cluster.")
    var brokers: Int = 3

    @Option(help: "Partitions per Accord topic.")
    var partitions: Int32 = 6

    @Option(name: .customLong("fault-port"),
            help: "Serve the fault control API (POST /v1/faults) on this loopback port; off unless given.")
    var faultPort: Int?

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard (1...16).contains(brokers) else { throw ValidationError("--brokers must be between 1 and 16, got \(brokers)") }
        guard (1...1024).contains(partitions) else { throw ValidationError("--partitions must be between 1 and 1024, got \(partitions)") }
        if let faultPort, !(1...65_535).contains(faultPort) {
            throw ValidationError("--fault-port must be a TCP port, got \(faultPort)")
        }
    }

    func run() async throws {
        logging.bootstrap()
        let logger = Logger(label: "accord.broker")
        let cluster = try EmbeddedKafkaCluster(brokers: brokers, logger: logger)
        let replication = Int32(min(3, brokers))
        for topic in AccordTopic.all {
            try cluster.createTopic(TopicSpec(name: topic.name, partitions: partitions, replicationFactor: replication))
        }
        // Unbuffered, so a parent process reading a pipe sees it at once.
        FileHandle.standardOutput.write(Data((cluster.bootstrapServers + "\n").utf8))
        logger.notice("embedded broker ready", metadata: [
            "bootstrap": "\(cluster.bootstrapServers)",
            "brokers": "\(brokers)",
            "partitions": "\(partitions)",
            "topics": "\(AccordTopic.all.map(\.name).joined(separator: ","))",
        ])
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let faultPort {
            let topics = Dictionary(uniqueKeysWithValues: AccordTopic.all.map { ($0.name, partitions) })
            let api = BrokerFaultAPI(cluster: cluster, topics: topics, logger: logger)
            let application = Application(
                router: api.router(), server: HTTPServerSetup.http1(),
                configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: faultPort)),
                onServerRunning: { channel in
                    logger.notice("fault control listening", metadata: [
                        "url": "http://127.0.0.1:\(channel.localAddress?.port ?? faultPort)/v1/faults"])
                },
                logger: logger)
            services.append(.init(service: application))
        }
        // Last, so that the fault control stops before the cluster it drives.
        services.append(.init(service: EmbeddedBrokerService(cluster: cluster)))
        let group = ServiceGroup(configuration: .init(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
        logger.notice("embedded broker stopped")
    }
}

/// Keeps the embedded cluster up until graceful shutdown, then stops it.
struct EmbeddedBrokerService: Service {
    let cluster: EmbeddedKafkaCluster

    func run() async throws {
        try? await gracefulShutdown()
        cluster.shutdown()
    }
}
