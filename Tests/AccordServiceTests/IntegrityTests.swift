import AccordBus
import AccordEvents
import AccordIntegrity
import AccordHTTP
import AccordKafka
import AccordRuntime
import AccordService
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// What `ChainVerifier` (the projector's check) said about every record of a topic.
struct VerificationReport {
    /// Every event accepted as provisional, in record order.
    var provisional: [ChainLink] = []
    /// Every event a verified checkpoint covered, in order of coverage.
    var verified: [ChainLink] = []
    /// Every verified checkpoint.
    var checkpoints: [ChainCheckpoint] = []
    /// Orphaned events.
    var orphaned: [ChainLink] = []
    /// Refused events, with their offsets.
    var rejectedEvents: [(offset: Int64, rejection: EventRejection)] = []
    /// Refused checkpoints.
    var rejectedCheckpoints: [CheckpointRejection] = []
    /// The verifier after every record.
    var verifier: ChainVerifier

    /// Feeds `records` (per partition in offset order) to a verifier trusting `registry`.
    init(_ records: [ConsumerRecord], registry: KeyRegistry) {
        verifier = ChainVerifier(registry: registry)
        for record in records {
            switch verifier.accept(record: record.binaryMessage, topic: record.topic, partition: record.partition,
                                   offset: record.offset) {
            case .event(.provisional(let link)): provisional.append(link)
            case .event(.rejected(let rejection)): rejectedEvents.append((record.offset, rejection))
            case .event(.duplicate): break
            case .checkpoint(.verified(let coverage)):
                checkpoints.append(coverage.checkpoint)
                verified += coverage.verified
                orphaned += coverage.orphaned
            case .checkpoint(.rejected(let rejection)): rejectedCheckpoints.append(rejection)
            case .checkpoint(.duplicate): break
            case .event(.held), .checkpoint(.held): break  // never: this verifier refuses gaps
            }
        }
    }

    /// True when every event was linked, then verified, and nothing was refused or orphaned.
    var allVerified: Bool {
        rejectedEvents.isEmpty && rejectedCheckpoints.isEmpty && orphaned.isEmpty
            && Set(provisional.map(\.hash)) == Set(verified.map(\.hash)) && provisional.count == verified.count
            && verifier.chains.values.allSatisfy(\.unverified.isEmpty)
    }
}

@Suite("Hash chains and signed checkpoints of published events", .serialized, .timeLimit(.minutes(3)), .tags(.broker))
struct IntegrityTests {
    static let probationTopic = AccordTopic.probationCaseEvents

    static func events(_ kind: EventKind, subjects: [String]) throws -> [[String: Any]] {
        try subjects.map { ["type": kind.type, "data": try HTTP.data(kind, subject: $0)] as [String: Any] }
    }

    static func isCheckpoint(_ record: ConsumerRecord) -> Bool {
        ChainCheckpoint.isCheckpointRecord(record.binaryMessage)
    }

    @Test("events form a valid chain per partition: each provisional, then verified by the signed checkpoint; partitions follow murmur2")
    func chainsVerify() async throws {
        let harness = try ServiceHarness()
        let service = try harness.service(.probation, checkpointInterval: .seconds(600))
        let subjects = (1...24).map { String(format: "X9%05d", $0) }
        let acks = try await harness.run(service) { client in
            let one = try await HTTP.post(client, try Self.events(.riskReassessed, subjects: subjects))
            #expect(one.status == .accepted)
            let two = try await HTTP.post(client, try Self.events(.practitionerAllocated, subjects: Array(subjects.prefix(8))))
            #expect(two.status == .accepted)
            return try HTTP.decode(HTTP.Accepted.self, one).accepted + HTTP.decode(HTTP.Accepted.self, two).accepted
        }
        #expect(acks.count == 32)
        for ack in acks {
            #expect(ack.partition == KafkaPartitioner.murmur2(key: ack.subject, partitions: ServiceHarness.partitions))
        }
        let records = try await harness.records(on: Self.probationTopic)
        let events = records.filter { !Self.isCheckpoint($0) }
        #expect(events.count == 32)
        for record in events {
            #expect(record.partition == KafkaPartitioner.murmur2(key: record.key ?? [], partitions: ServiceHarness.partitions))
            #expect(record.header("ce_prevhash")?.stringValue?.count == 64)
        }
        let report = VerificationReport(records, registry: try harness.registry())
        #expect(report.provisional.count == 32)
        #expect(report.allVerified)
        // Only the graceful-shutdown checkpoints: one per chain, after its events.
        let chains = Set(events.map(\.partition))
        #expect(report.checkpoints.count == chains.count)
        for partition in chains {
            let inPartition = records.filter { $0.partition == partition }
            #expect(inPartition.last.map(Self.isCheckpoint) == true)
            let checkpoint = try #require(report.checkpoints.first { $0.chain.partition == partition })
            #expect(checkpoint.count == Int64(inPartition.count - 1))
            #expect(checkpoint.chain.source == "urn:accord:probation:nps-london")
            #expect(checkpoint.keyId == harness.keys[.probation]?.keyId)
        }
        // Positions count from 1 along each chain; the first event starts at genesis.
        for partition in chains {
            let links = report.provisional.filter { $0.chain.partition == partition }
            #expect(links.map(\.position) == (1...Int64(links.count)).map { $0 })
            #expect(links.first?.prevHash == .zero)
        }
    }

    @Test("a checkpoint follows every N events of a chain, and every T seconds while events are uncovered")
    func checkpointTriggers() async throws {
        let harness = try ServiceHarness()
        let subject = "X910001"
        let partition = try #require(KafkaPartitioner.murmur2(key: subject, partitions: ServiceHarness.partitions))
        let byCount = try harness.service(.probation, checkpointEvery: 3, checkpointInterval: .seconds(600))
        try await harness.run(byCount) { client in
            func checkpoints() async throws -> [ChainCheckpoint] {
                try await harness.records(on: Self.probationTopic)
                    .filter { $0.partition == partition && Self.isCheckpoint($0) }
                    .map { try ChainCheckpoint(record: $0.binaryMessage) }
            }
            let kinds: [EventKind] = [.riskReassessed, .practitionerAllocated, .riskReassessed]
            let three = try kinds.map { ["type": $0.type, "data": try HTTP.data($0, subject: subject)] as [String: Any] }
            // Checkpoints go through the outbox after the events they cover.
            #expect(try await HTTP.post(client, three).status == .accepted)
            try await harness.drained(client)
            #expect(try await checkpoints().map(\.count) == [3])
            #expect(try await HTTP.post(client, Array(three.prefix(2))).status == .accepted)
            try await harness.drained(client)
            #expect(try await checkpoints().map(\.count) == [3])
            #expect(try await HTTP.post(client, Array(three.prefix(1))).status == .accepted)
            try await harness.drained(client)
            #expect(try await checkpoints().map(\.count) == [3, 6])
        }
        let byTime = try harness.service(.interventions, checkpointInterval: .milliseconds(300))
        try await harness.run(byTime) { client in
            @Sendable func checkpoints() async throws -> Int {
                try await harness.records(on: .interventionsDeliveryEvents).filter(Self.isCheckpoint).count
            }
            #expect(try await HTTP.post(client, try Self.events(.appointmentAttended, subjects: ["X910002"])).status == .accepted)
            // One event is far below the count threshold: only the interval can bring the checkpoint.
            try await waitUntil("a checkpoint after the interval", timeout: .seconds(60)) { try await checkpoints() == 1 }
            // Nothing new is uncovered: no further checkpoint.
            try await Task.sleep(for: .milliseconds(900))
            #expect(try await checkpoints() == 1)
        }
        let report = VerificationReport(try await harness.records(on: Self.probationTopic), registry: try harness.registry())
        #expect(report.allVerified)
        #expect(report.verified.count == 6)
        #expect(VerificationReport(try await harness.records(on: .interventionsDeliveryEvents),
                                   registry: try harness.registry()).allVerified)
    }

    @Test("a restarted service continues every chain from the heads in its outbox, and the whole history verifies")
    func restartContinuesChains() async throws {
        let harness = try ServiceHarness()
        let subjects = ["X920001", "X920002", "X920003", "X920004", "X920005"]
        try await harness.run(try harness.service(.interventions, checkpointInterval: .seconds(600))) { client in
            let body = try Self.events(.appointmentAttended, subjects: subjects + subjects)
            #expect(try await HTTP.post(client, body).status == .accepted)
        }
        let before = try await harness.records(on: .interventionsDeliveryEvents)
        let firstReport = VerificationReport(before, registry: try harness.registry())
        #expect(firstReport.allVerified)
        let heads = Dictionary(firstReport.checkpoints.map { ($0.chain.partition, $0.head) }) { _, last in last }

        let acks = try await harness.run(try harness.service(.interventions, checkpointInterval: .seconds(600))) { client in
            let health = try HTTP.json(try await client.execute(uri: "/health", method: .get))
            #expect(health["lastSequence"] as? Int == 10)
            #expect(health["chains"] as? Int == heads.count)
            let response = try await HTTP.post(client, try Self.events(.appointmentMissed, subjects: subjects))
            #expect(response.status == .accepted)
            return try HTTP.decode(HTTP.Accepted.self, response).accepted
        }
        #expect(acks.map(\.sequence) == Array(11...15))
        let after = try await harness.records(on: .interventionsDeliveryEvents)
        let report = VerificationReport(after, registry: try harness.registry())
        #expect(report.allVerified)
        #expect(report.verified.count == 15)
        // Exactly one event per chain starts at genesis; the second instance's first event in a
        // chain links to the head the first instance signed.
        for (partition, head) in heads {
            let links = report.provisional.filter { $0.chain.partition == partition }
            #expect(links.filter { $0.prevHash == .zero }.count == 1)
            let continued = try #require(links.first { $0.sequence > 10 })
            #expect(continued.prevHash == head)
        }
    }

    @Test("a tampered record is rejected by the verifier, in place or re-produced")
    func tamperedRecordRejected() async throws {
        let harness = try ServiceHarness()
        let subject = "X930001"
        try await harness.run(try harness.service(.probation, checkpointInterval: .seconds(600))) { client in
            let kinds: [EventKind] = [.riskReassessed, .practitionerAllocated, .riskReassessed, .practitionerAllocated]
            let events = try kinds.map { ["type": $0.type, "data": try HTTP.data($0, subject: subject)] as [String: Any] }
            #expect(try await HTTP.post(client, events).status == .accepted)
        }
        let records = try await harness.records(on: Self.probationTopic)
        let registry = try harness.registry()
        #expect(VerificationReport(records, registry: registry).allVerified)
        let index = try #require(records.indices.filter { !Self.isCheckpoint(records[$0]) }.dropFirst().first)
        var tampered = records[index]
        let byte = try #require(tampered.value.firstIndex(of: UInt8(ascii: "\"")))
        tampered.value[byte] = UInt8(ascii: "'")

        // Altered where it is stored: the events after it no longer link, the checkpoint does not match.
        var altered = records
        altered[index] = tampered
        let inPlace = VerificationReport(altered, registry: registry)
        #expect(!inPlace.allVerified)
        #expect(inPlace.rejectedEvents.map(\.rejection.code) == ["broken-chain", "broken-chain"])
        #expect(inPlace.rejectedCheckpoints.map(\.code) == ["count-ahead"])

        // Re-produced to the same partition: it does not extend the signed chain.
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: harness.cluster.bootstrapServers))
        _ = try await producer.send(ProducerRecord(topic: tampered.topic, key: tampered.key, value: tampered.value,
                                                   headers: tampered.headers, partition: tampered.partition))
        _ = await producer.shutdown()
        let withCopy = try await harness.records(on: Self.probationTopic)
        #expect(withCopy.count == records.count + 1)
        let report = VerificationReport(withCopy, registry: registry)
        #expect(report.verified.count == 4)
        #expect(report.rejectedEvents.map(\.rejection.code) == ["broken-chain"])
        #expect(report.rejectedEvents.first?.offset == withCopy.last?.offset)
    }

    @Test("GET /v1/keys answers the service's public key as a key registry")
    func keysEndpoint() async throws {
        let harness = try ServiceHarness()
        let key = try #require(harness.keys[.commissioner])
        try await harness.run(try harness.service(.commissioner)) { client in
            let response = try await client.execute(uri: "/v1/keys", method: .get)
            #expect(response.status == .ok)
            let registry = try KeyRegistry(jsonBytes: Array(response.body.readableBytesView))
            #expect(registry.keys == [key.registryEntry(validFrom: ServiceHarness.keysValidFrom)])
            #expect(registry.keys.first?.source == "urn:accord:commissioner:pcc-west")
            let health = try HTTP.json(try await client.execute(uri: "/health", method: .get))
            #expect(health["keyId"] as? String == key.keyId)
        }
    }

    @Test("the commissioner chains its two topics separately")
    func commissionerTopics() async throws {
        let harness = try ServiceHarness()
        try await harness.run(try harness.service(.commissioner, checkpointInterval: .seconds(600))) { client in
            let events = try Self.events(.contractAwarded, subjects: ["CT-0101", "CT-0102"])
                + Self.events(.provenReoffenceRecorded, subjects: ["X940001", "X940002"])
            #expect(try await HTTP.post(client, events).status == .accepted)
        }
        for topic in [AccordTopic.commissioningEvents, .policeOutcomeEvents] {
            let report = VerificationReport(try await harness.records(on: topic), registry: try harness.registry())
            #expect(report.allVerified)
            #expect(report.verified.count == 2)
            #expect(report.checkpoints.allSatisfy { $0.chain.topic == topic.name })
        }
    }

    @Test("reactions skip other agencies' checkpoint records instead of counting them as bad records")
    func reactionsSkipCheckpoints() async throws {
        let harness = try ServiceHarness()
        let key = try #require(harness.keys[.interventions])
        let violation = EventSamples.event(.curfewViolationDetected, subject: "X960001", sequence: 1,
                                           time: EventSamples.defaultStart)
        let topic = AccordTopic.interventionsDeliveryEvents.name
        let partition = try #require(KafkaPartitioner.murmur2(key: violation.partitionKey, partitions: ServiceHarness.partitions))
        var writer = ChainWriter(chain: ChainID(source: violation.source.urn, topic: topic, partition: partition))
        let sealed = try writer.seal(violation, codec: EventCodec())
        let checkpoint = try writer.checkpoint(issuedAt: EventSamples.defaultStart, key: key).record
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: harness.cluster.bootstrapServers))
        for message in [sealed.message, checkpoint] {
            _ = try await producer.send(ProducerRecord(
                topic: topic, key: message.key, value: message.value,
                headers: message.headers.map { KafkaHeader(key: $0.name, value: $0.value) }, partition: partition))
        }
        _ = await producer.shutdown()
        try await harness.run(try harness.service(.probation)) { client in
            try await waitUntil("the violation applied") {
                let text = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
                return text.contains("accord_reaction_events_applied_total{agency=\"nps-london\"} 1")
            }
            let text = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(!text.contains("accord_reaction_records_skipped_total{agency=\"nps-london\"}"))
        }
    }
}

@Suite("Signing key file and integrity options (no broker)")
struct SigningKeyTests {
    @Test("a missing key file is generated with mode 0600 and loaded again unchanged; another agency's key is refused")
    func keyFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("accord-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("nps-london.signing-key.json").path
        let signer = "urn:accord:probation:nps-london"
        let created = try SigningKeyFile.loadOrGenerate(path: path, signer: signer)
        #expect(created.generated)
        #expect(created.permissionWarning == nil)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let loaded = try SigningKeyFile.loadOrGenerate(path: path, signer: signer)
        #expect(!loaded.generated)
        #expect(loaded.key.keyId == created.key.keyId)
        #expect(loaded.validFrom == created.validFrom)
        #expect(throws: ServiceSetupError.self) {
            try SigningKeyFile.loadOrGenerate(path: path, signer: "urn:accord:probation:other-office")
        }
    }

    @Test("--signing-key, --checkpoint-every and --checkpoint-interval reach the configuration; the key file defaults to <agency-id>.signing-key.json")
    func options() throws {
        let options = try ServiceOptions.parse(["--bootstrap-servers", "127.0.0.1:9092", "--signing-key", "k.json",
                                                "--checkpoint-every", "5", "--checkpoint-interval", "0.5"])
        let configuration = try options.configuration(for: .probation, environment: [:])
        #expect(configuration.checkpointEvery == 5)
        #expect(configuration.checkpointInterval == .milliseconds(500))
        guard case .file(let path) = configuration.resolvedSigningKey else {
            Issue.record("expected a key file")
            return
        }
        #expect(path == "k.json")
        let defaults = try ServiceOptions.parse(["--bootstrap-servers", "127.0.0.1:9092", "--agency-id", "leeds-office"])
            .configuration(for: .probation, environment: [:])
        #expect(defaults.checkpointEvery == 1000)
        #expect(defaults.checkpointInterval == .seconds(1))
        guard case .file(let defaultPath) = defaults.resolvedSigningKey else {
            Issue.record("expected a key file")
            return
        }
        #expect(defaultPath == "leeds-office.signing-key.json")
        let fromEnvironment = try ServiceOptions.parse(["--bootstrap-servers", "127.0.0.1:9092"])
            .configuration(for: .probation, environment: ["ACCORD_SIGNING_KEY": "/keys/probation.json"])
        guard case .file(let envPath) = fromEnvironment.resolvedSigningKey else {
            Issue.record("expected a key file")
            return
        }
        #expect(envPath == "/keys/probation.json")
        #expect(throws: (any Error).self) {
            try ServiceOptions.parse(["--bootstrap-servers", "x", "--checkpoint-every", "0"])
                .configuration(for: .probation, environment: [:])
        }
    }
}
