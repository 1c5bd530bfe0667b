import AccordKafka
import Foundation
import Testing

/// A real third-party Kafka client (kcat, installed by scripts/bootstrap) talks to the embedded broker.
@Suite("Interoperability with kcat", .tags(.broker))
struct KcatInteropTests {
    static func kcat(_ arguments: [String], input: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["kcat"] + arguments
        let output = Pipe()
        let errors = Pipe()
        let stdin = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw KafkaError(kind: .consume, message: "kcat \(arguments.joined(separator: " ")) failed (\(process.terminationStatus)); run scripts/bootstrap to install kcat: \(errorText)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    @Test("kcat produces to the embedded broker and Accord's consumer reads it, headers included")
    func kcatProducesAccordConsumes() async throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        defer { cluster.shutdown() }
        try cluster.createTopic(TopicSpec(name: "interop", partitions: 1))
        _ = try Self.kcat(["-P", "-b", cluster.bootstrapServers, "-t", "interop", "-K", ":", "-H", "ce_type=demo"],
                          input: "X000001:first\nX000002:second\n")
        let consumer = try KafkaConsumer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
        try await consumer.assign([TopicPartition(topic: "interop", partition: 0): .beginning], stopAtEnd: true)
        var received: [String] = []
        for try await record in consumer.records {
            #expect(record.header("ce_type")?.stringValue == "demo")
            received.append("\(record.keyString ?? ""):\(String(decoding: record.value, as: UTF8.self))")
        }
        #expect(received == ["X000001:first", "X000002:second"])
        await consumer.close()
    }

    @Test("Accord's producer writes and kcat reads the same keys, values and headers")
    func accordProducesKcatConsumes() async throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        defer { cluster.shutdown() }
        try cluster.createTopic(TopicSpec(name: "interop", partitions: 1))
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
        for index in 1...3 {
            _ = try await producer.send(ProducerRecord(topic: "interop", key: "X00000\(index)", value: Array("v\(index)".utf8),
                                                       headers: [KafkaHeader(key: "ce_id", string: "id-\(index)")]))
        }
        _ = await producer.shutdown()
        let output = try Self.kcat(["-C", "-b", cluster.bootstrapServers, "-t", "interop", "-o", "beginning", "-e", "-q",
                                    "-f", "%k|%s|%h\\n"])
        #expect(output.split(separator: "\n") == ["X000001|v1|ce_id=id-1", "X000002|v2|ce_id=id-2", "X000003|v3|ce_id=id-3"])
    }
}
