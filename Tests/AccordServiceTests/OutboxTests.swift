import AccordBus
import AccordEvents
import AccordHTTP
import AccordIntegrity
import AccordKafka
import AccordProcesses
import AccordRuntime
import AccordService
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("The durable outbox: restarts, broker outages, idempotency, chain ranges, crashes", .serialized, .timeLimit(.minutes(5)), .tags(.broker))
struct OutboxTests {
    static let probationTopic = AccordTopic.probationCaseEvents

    static func events(_ kind: EventKind, subjects: [String], ids: Bool = false) throws -> [[String: Any]] {
        try subjects.map { subject in
            var event: [String: Any] = ["type": kind.type, "data": try HTTP.data(kind, subject: subject)]
            if ids { event["id"] = UUID().uuidString }
            return event
        }
    }

    /// The probation topic's records verify against the harness's keys: `count` events, all verified.
    static func expectVerified(_ harness: ServiceHarness, events count: Int) async throws {
        let report = VerificationReport(try await harness.records(on: probationTopic), registry: try harness.registry())
        #expect(report.allVerified)
        #expect(report.verified.count == count)
    }

    /// Fast reconnects so the relay notices a broker coming back quickly.
    static let reconnect = ["reconnect.backoff.ms": "20", "reconnect.backoff.max.ms": "200"]

    @Test("accepted events survive a restart before being published, and are published once after it")
    func surviveRestart() async throws {
        let harness = try ServiceHarness()
        let subjects = (1...12).map { String(format: "X71%04d", $0) }
        let first = try harness.service(.probation, checkpointInterval: .seconds(600), deliveryTimeout: .seconds(2),
                                        shutdownTimeout: .milliseconds(300), kafkaProperties: Self.reconnect)
        let accepted = try await harness.run(first) { client in
            try harness.cluster.setBrokerDown(1)
            let response = try await HTTP.post(client, try Self.events(.riskReassessed, subjects: subjects))
            #expect(response.status == .accepted)
            let acks = try HTTP.decode(HTTP.Accepted.self, response).accepted
            #expect(acks.allSatisfy { $0.offset == nil })
            let health = try HTTP.json(try await client.execute(uri: "/health", method: .get))
            #expect((health["outbox"] as? [String: Any])?["pending"] as? Int == 12)
            return acks
        }
        #expect(first.pendingCount >= 12)
        try harness.cluster.setBrokerUp(1)
        #expect(try await harness.events(on: Self.probationTopic).isEmpty)

        let second = try harness.service(.probation, checkpointInterval: .seconds(600), kafkaProperties: Self.reconnect)
        try await harness.run(second) { client in
            try await harness.drained(client)
            let lookup = try await client.execute(uri: "/v1/events/\(accepted[0].id)", method: .get)
            #expect(try HTTP.decode(Acknowledgement.self, lookup).offset != nil)
        }
        let events = try await harness.events(on: Self.probationTopic)
        #expect(events.map(\.idString) == accepted.map(\.id))
        #expect(events.map(\.sequence) == Array(1...12))
        try await Self.expectVerified(harness, events: 12)
    }

    @Test("with the broker down the service accepts up to its bound, then answers 503 with Retry-After; everything drains in order once the broker is back")
    func boundedWhileBrokerDown() async throws {
        let harness = try ServiceHarness()
        let service = try harness.service(.interventions, checkpointInterval: .seconds(600), deliveryTimeout: .seconds(1),
                                          maxPending: 10, kafkaProperties: Self.reconnect)
        let subjects = ["X720001", "X720002", "X720003"]
        try await harness.run(service) { client in
            try harness.cluster.setBrokerDown(1)
            for index in 0..<10 {
                let response = try await HTTP.post(client, try Self.events(.appointmentAttended, subjects: [subjects[index % 3]]))
                #expect(response.status == .accepted)
            }
            let refused = try await HTTP.post(client, try Self.events(.appointmentAttended, subjects: [subjects[0]]))
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.headers[.retryAfter] != nil)
            #expect(refused.headers[.contentType] == "application/problem+json")
            #expect(try HTTP.decode(ProblemDetails.self, refused).type == "https://accord.example/problems/outbox-full")
            #expect(try await client.execute(uri: "/ready", method: .get).status == .serviceUnavailable)
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(metrics.contains("accord_intake_requests_refused_total{agency=\"ace-payback\"} 1"))
            #expect(metrics.contains("accord_outbox_pending_entries{agency=\"ace-payback\"} 10"))

            try harness.cluster.setBrokerUp(1)
            try await harness.drained(client)
            #expect(try await client.execute(uri: "/ready", method: .get).status == .ok)
            let after = try await HTTP.post(client, try Self.events(.appointmentAttended, subjects: [subjects[1]]))
            #expect(after.status == .accepted)
            try await harness.drained(client)
            let text = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(text.contains("accord_outbox_events_published_total{agency=\"ace-payback\"} 11"))
        }
        let records = try await harness.records(on: .interventionsDeliveryEvents)
        let report = VerificationReport(records, registry: try harness.registry())
        #expect(report.allVerified)
        #expect(report.verified.count == 11)
        // Per key (so per partition), the order on Kafka is the order of acceptance.
        let events = try records.filter { !ChainCheckpoint.isCheckpointRecord($0.binaryMessage) }.map { try $0.decodeEvent() }
        for subject in subjects {
            let sequences = events.filter { $0.subject == subject }.map(\.sequence)
            #expect(sequences == sequences.sorted())
        }
        #expect(events.map(\.sequence).sorted() == Array(1...11))
    }

    @Test("an Idempotency-Key or a repeated event id returns the original result across a restart, and publishes once")
    func idempotentAcrossRestart() async throws {
        let harness = try ServiceHarness()
        let body = try HTTP.body(try Self.events(.riskReassessed, subjects: ["X730001", "X730002"]))
        let withId = try HTTP.body(try Self.events(.riskReassessed, subjects: ["X730003"], ids: true))
        @Sendable func post(_ client: any TestClientProtocol, _ body: ByteBuffer, key: String?) async throws -> TestResponse {
            var headers: HTTPFields = [.contentType: "application/json"]
            if let key { headers[try #require(HTTPField.Name("Idempotency-Key"))] = key }
            return try await client.execute(uri: "/v1/events", method: .post, headers: headers, body: body)
        }
        let (original, originalId) = try await harness.run(try harness.service(.probation)) { client in
            let first = try await post(client, body, key: "request-1")
            #expect(first.status == .accepted)
            let again = try await post(client, body, key: "request-1")
            #expect(try HTTP.decode(HTTP.Accepted.self, again).accepted == HTTP.decode(HTTP.Accepted.self, first).accepted)
            let byId = try await post(client, withId, key: nil)
            #expect(byId.status == .accepted)
            return (try HTTP.decode(HTTP.Accepted.self, first).accepted, try HTTP.decode(HTTP.Accepted.self, byId).accepted)
        }
        #expect(original.count == 2)
        try await harness.run(try harness.service(.probation)) { client in
            let retried = try await post(client, body, key: "request-1")
            #expect(retried.status == .accepted)
            let acks = try HTTP.decode(HTTP.Accepted.self, retried).accepted
            #expect(acks.map(\.id) == original.map(\.id))
            #expect(acks.map(\.sequence) == original.map(\.sequence))
            let byId = try HTTP.decode(HTTP.Accepted.self, try await post(client, withId, key: nil)).accepted
            #expect(byId.map(\.id) == originalId.map(\.id))
            #expect(byId.map(\.sequence) == originalId.map(\.sequence))
            // The same key for another request is refused, naming the header.
            let other = try await post(client, try HTTP.body(try Self.events(.riskReassessed, subjects: ["X730009"])), key: "request-1")
            #expect(other.status == .unprocessableContent)
            #expect(try HTTP.decode(ProblemDetails.self, other).errors?.first?.field == "Idempotency-Key")
            let invalid = try await post(client, body, key: "has spaces")
            #expect(invalid.status == .badRequest)
            #expect(try HTTP.decode(ProblemDetails.self, invalid).errors?.first?.field == "Idempotency-Key")
        }
        let events = try await harness.events(on: Self.probationTopic)
        #expect(events.count == 3)
        #expect(Set(events.map(\.idString)) == Set((original + originalId).map(\.id)))
    }

    @Test("GET /v1/chains/{topic}/{partition}/events returns the sealed records and the newest checkpoint, which ChainVerifier accepts")
    func chainRange() async throws {
        let harness = try ServiceHarness()
        let subject = "X740001"
        let partition = try #require(KafkaPartitioner.murmur2(key: subject, partitions: ServiceHarness.partitions))
        let topic = Self.probationTopic.name
        try await harness.run(try harness.service(.probation, checkpointEvery: 10, checkpointInterval: .seconds(600))) { client in
            let kinds: [EventKind] = [.riskReassessed, .practitionerAllocated]
            let body = try (0..<25).map { ["type": kinds[$0 % 2].type, "data": try HTTP.data(kinds[$0 % 2], subject: subject)] as [String: Any] }
            #expect(try await HTTP.post(client, body).status == .accepted)
            try await harness.drained(client)

            struct Header: Decodable { let name: String; let value: String }
            struct Record: Decodable {
                let position: Int64
                let offset: Int64?
                let key: String?
                let headers: [Header]
                let value: String
                var message: BinaryMessage {
                    BinaryMessage(key: key.flatMap { Data(base64Encoded: $0) }.map { Array($0) },
                                  headers: headers.map { MessageHeader(name: $0.name, value: Array(Data(base64Encoded: $0.value) ?? Data())) },
                                  value: Array(Data(base64Encoded: value) ?? Data()))
                }
            }
            struct Answer: Decodable {
                let count: Int
                let chainLength: Int64
                let next: Int64?
                let events: [Record]
                let checkpoint: Record?
            }
            var verifier = ChainVerifier(registry: try harness.registry())
            var from: Int64? = 1
            var seen = 0
            while let position = from {
                let response = try await client.execute(uri: "/v1/chains/\(topic)/\(partition)/events?from=\(position)&limit=7", method: .get)
                #expect(response.status == .ok)
                let answer = try HTTP.decode(Answer.self, response)
                #expect(answer.chainLength == 25)
                for (index, record) in answer.events.enumerated() {
                    #expect(record.position == position + Int64(index))
                    #expect(record.offset != nil)
                    guard case .event(.provisional) = verifier.accept(record: record.message, topic: topic, partition: partition,
                                                                      offset: Int64(seen)) else {
                        Issue.record("event at position \(record.position) was not linked")
                        return
                    }
                    seen += 1
                }
                from = answer.next
                if from == nil {
                    let checkpoint = try #require(answer.checkpoint)
                    #expect(checkpoint.position == 20)
                    guard case .checkpoint(.verified(let coverage)) = verifier.accept(
                        record: checkpoint.message, topic: topic, partition: partition, offset: Int64(seen)) else {
                        Issue.record("the checkpoint does not verify the range")
                        return
                    }
                    #expect(coverage.verified.count == 20)
                }
            }
            #expect(seen == 25)

            let unknown = try await client.execute(uri: "/v1/chains/interventions.delivery-events.v1/0/events", method: .get)
            #expect(unknown.status == .notFound)
            #expect(try HTTP.decode(ProblemDetails.self, unknown).errors?.first?.field == "topic")
            let badLimit = try await client.execute(uri: "/v1/chains/\(topic)/\(partition)/events?limit=0", method: .get)
            #expect(badLimit.status == .badRequest)
            #expect(try HTTP.decode(ProblemDetails.self, badLimit).errors?.first?.field == "limit")
            let badPartition = try await client.execute(uri: "/v1/chains/\(topic)/99/events", method: .get)
            #expect(badPartition.status == .notFound)
        }
    }

    @Test("records past the retention are dropped from chain ranges once published, and the range says where it starts")
    func retention() async throws {
        let harness = try ServiceHarness()
        let subject = "X750001"
        let partition = try #require(KafkaPartitioner.murmur2(key: subject, partitions: ServiceHarness.partitions))
        try await harness.run(try harness.service(.probation, checkpointInterval: .seconds(600), retention: .count(3))) { client in
            let body = try Self.events(.riskReassessed, subjects: Array(repeating: subject, count: 8))
            #expect(try await HTTP.post(client, body).status == .accepted)
            try await harness.drained(client)
        }
        // The retention runs at start.
        try await harness.run(try harness.service(.probation, checkpointInterval: .seconds(600), retention: .count(3))) { client in
            try await waitUntil("retention applied") {
                let response = try await client.execute(uri: "/v1/chains/\(Self.probationTopic.name)/\(partition)/events?from=1", method: .get)
                return response.status == .gone
            }
            let response = try await client.execute(uri: "/v1/chains/\(Self.probationTopic.name)/\(partition)/events?from=1", method: .get)
            #expect(try HTTP.decode(ProblemDetails.self, response).errors?.first?.field == "from")
            // Idempotency survives retention: the ids are kept.
            let health = try HTTP.json(try await client.execute(uri: "/health", method: .get))
            #expect(health["lastSequence"] as? Int == 8)
        }
    }

    @Test("a service importing history gives each record its recordedtime as Kafka timestamp, and never issues the sequence numbers it skips")
    func recordedTimeAndSkippedSequences() async throws {
        let harness = try ServiceHarness()
        let service = try harness.service(.probation, checkpointInterval: .milliseconds(100), acceptsRecordedTime: true,
                                          skippedSequences: [2, 4])
        let time = try #require(Timestamp(rfc3339: "2026-03-02T10:00:00Z"))
        let late = try #require(Timestamp(rfc3339: "2026-03-05T16:30:00Z"))
        var events = try Self.events(.riskReassessed, subjects: ["X720001", "X720002", "X720003"])
        for index in events.indices { events[index]["time"] = time.rfc3339 }
        events[1]["recordedtime"] = late.rfc3339
        events[2]["recordedtime"] = time.rfc3339
        // Refused, naming the field: before the event's time, in the future, without a time.
        var before = events[0]
        before["recordedtime"] = "2026-03-01T00:00:00Z"
        var future = events[0]
        future["recordedtime"] = "2999-01-01T00:00:00Z"
        var timeless = events[0]
        timeless["time"] = nil
        timeless["recordedtime"] = late.rfc3339
        let good = try HTTP.body(events)
        let bad = try HTTP.body([before, future, timeless])
        try await harness.run(service) { client in
            let response = try await HTTP.post(client, raw: good)
            #expect(response.status == .accepted, "\(String(buffer: response.body))")
            let acks = try HTTP.decode(HTTP.Accepted.self, response).accepted
            #expect(acks.map(\.sequence) == [1, 3, 5])
            let refused = try await HTTP.post(client, raw: bad)
            #expect(refused.status == .unprocessableContent)
            let errors = try HTTP.json(refused)["errors"] as? [[String: Any]] ?? []
            #expect(errors.map { $0["pointer"] as? String } == ["/0/recordedtime", "/1/recordedtime", "/2/recordedtime"])
            try await harness.drained(client)
        }
        let records = try await harness.records(on: Self.probationTopic)
            .filter { !ChainCheckpoint.isCheckpointRecord($0.binaryMessage) }
        let bySequence = Dictionary(uniqueKeysWithValues: try records.map { (try $0.decodeEvent().sequence, $0) })
        #expect(bySequence.keys.sorted() == [1, 3, 5])
        #expect(bySequence[3]?.timestampMilliseconds == late.secondsSinceEpoch * 1000)
        #expect(bySequence[5]?.timestampMilliseconds == time.secondsSinceEpoch * 1000)
        // Without a recordedtime, the record is stamped when it is produced (now, not the event's time).
        #expect((bySequence[1]?.timestampMilliseconds ?? 0) > late.secondsSinceEpoch * 1000)
        try await Self.expectVerified(harness, events: 3)
    }

    @Test("a service that does not import history refuses recordedtime, naming the field")
    func recordedTimeRefused() async throws {
        let harness = try ServiceHarness()
        let service = try harness.service(.probation)
        var events = try Self.events(.riskReassessed, subjects: ["X720010"])
        events[0]["time"] = "2026-03-02T10:00:00Z"
        events[0]["recordedtime"] = "2026-03-03T10:00:00Z"
        let body = try HTTP.body(events)
        try await harness.run(service) { client in
            let response = try await HTTP.post(client, raw: body)
            #expect(response.status == .unprocessableContent)
            let errors = try HTTP.json(response)["errors"] as? [[String: Any]] ?? []
            #expect(errors.first?["pointer"] as? String == "/0/recordedtime")
            #expect((errors.first?["message"] as? String)?.contains("--accept-recorded-time") == true)
        }
        #expect(try await harness.events(on: Self.probationTopic).isEmpty)
    }

    @Test("SIGKILL of the service process mid-batch leaves no sequence gap and no duplicate once clients retry")
    func killMidBatch() async throws {
        let harness = try ServiceHarness()
        let executable = Self.executable("probation-service")
        let folder = harness.folder.appendingPathComponent("killed")
        let port = try Self.freePort()
        let arguments = ["--bootstrap-servers", harness.cluster.bootstrapServers, "--port", "\(port)",
                         "--data-dir", folder.path, "--log-level", "warning", "--checkpoint-interval", "0.2"]
        let batches: [Data] = try (0..<40).map { batch in
            let events = try (0..<50).map { index -> [String: Any] in
                let subject = String(format: "X7%02d%03d", batch, index)
                return ["type": EventKind.riskReassessed.type, "id": UUID().uuidString,
                        "data": try HTTP.data(.riskReassessed, subject: subject)]
            }
            return try JSONSerialization.data(withJSONObject: events)
        }
        let url = "http://127.0.0.1:\(port)"
        var process = try ChildProcess(name: "probation-killed", executable: executable, arguments: arguments,
                                       logFile: folder.appendingPathComponent("first.log"))
        try await HTTPProbe.waitUntilOK("\(url)/health", timeout: .seconds(60)) { process.isRunning }
        // Four clients post batches; the process is killed as soon as the first batch is accepted,
        // while the others are being written and the relay is producing.
        let firstAccepted = Flag()
        let acknowledged = try await withThrowingTaskGroup(of: Int.self) { group in
            for sender in 0..<4 {
                group.addTask {
                    var accepted = 0
                    for index in stride(from: sender, to: batches.count, by: 4) {
                        guard let response = try? await HTTPProbe.post("\(url)/v1/events", body: batches[index]) else { break }
                        if response.status == 202 {
                            accepted += 50
                            firstAccepted.set()
                        }
                    }
                    return accepted
                }
            }
            _ = try await Self.eventually("a first batch accepted", timeout: .seconds(60)) {
                firstAccepted.isSet ? true : nil
            }
            process.kill()
            return try await group.reduce(0, +)
        }
        #expect(acknowledged > 0)
        #expect(acknowledged < batches.count * 50)
        process = try ChildProcess(name: "probation-restarted", executable: executable, arguments: arguments,
                                   logFile: folder.appendingPathComponent("second.log"))
        try await HTTPProbe.waitUntilOK("\(url)/health", timeout: .seconds(60)) { process.isRunning }
        // Clients retry every batch with the same ids: accepted ones are answered from the outbox.
        for batch in batches {
            let response = try await HTTPProbe.post("\(url)/v1/events", body: batch)
            #expect(response.status == 202)
        }
        _ = try await Self.eventually("outbox drained") {
            let health = try await HTTPProbe.get("\(url)/health")
            let object = try health.json() as? [String: Any]
            return (object?["outbox"] as? [String: Any])?["pending"] as? Int == 0 ? true : nil
        }
        #expect(await process.stop() == 0)
        let records = try await harness.records(on: Self.probationTopic)
        let events = try records.filter { !ChainCheckpoint.isCheckpointRecord($0.binaryMessage) }.map { try $0.decodeEvent() }
        #expect(events.count == 2000)
        #expect(Set(events.map(\.id)).count == events.count)
        #expect(events.map(\.sequence).sorted() == Array(1...Int64(events.count)))
        let report = VerificationReport(records, registry: try Self.registry(folder: folder))
        #expect(report.rejectedEvents.isEmpty)
        #expect(report.allVerified)
    }

    static func executable(_ name: String) -> URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent(name)
    }

    /// A port on 127.0.0.1 nobody listens on now.
    static func freePort() throws -> Int {
        for _ in 0..<200 {
            let port = Int.random(in: 33_000...39_999)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if bound == 0 { return port }
        }
        throw CancellationError()
    }

    /// A registry with the key the service generated in `folder`.
    static func registry(folder: URL) throws -> KeyRegistry {
        let key = try AgencySigningKey(contentsOfFile: folder.appendingPathComponent("nps-london.signing-key.json").path)
        return try KeyRegistry(keys: [key.registryEntry(validFrom: ServiceHarness.keysValidFrom)])
    }

    static func eventually<T>(_ what: String, timeout: Duration = .seconds(60),
                              _ probe: () async throws -> T?) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let value = try? await probe() { return value }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("timed out waiting for \(what)")
        throw CancellationError()
    }
}

/// A flag set by one task and read by another.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)

    /// Sets the flag.
    func set() { value.store(true, ordering: .releasing) }

    /// Whether the flag is set.
    var isSet: Bool { value.load(ordering: .acquiring) }
}
