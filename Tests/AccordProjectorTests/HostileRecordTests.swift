import AccordBus
import AccordEvents
import AccordIntegrity
import AccordKafka
import AccordProjection
import AccordProjector
import AccordReliabilityLog
import AccordStore
import AccordTestSupport
import Foundation
import Testing

/// Produces records with kcat, a third-party Kafka client (installed by scripts/bootstrap): every
/// byte the projector reads comes from outside Accord's own producer.
enum Kcat {
    /// Produces each record with its own kcat run (headers in order, the value from a file, so it
    /// is sent exactly as given).
    static func produce(_ records: [ProducerRecord], to bootstrapServers: String) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("accord-kcat-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for (n, record) in records.enumerated() {
            let file = folder.appendingPathComponent("\(n).value")
            try Data(record.value).write(to: file)
            var arguments = ["-P", "-b", bootstrapServers, "-t", record.topic]
            if let partition = record.partition { arguments += ["-p", "\(partition)"] }
            if let key = record.key { arguments += ["-k", String(decoding: key, as: UTF8.self)] }
            for header in record.headers {
                arguments += ["-H", "\(header.key)=\(String(decoding: header.value ?? [], as: UTF8.self))"]
            }
            arguments.append(file.path)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["kcat"] + arguments
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw KafkaError(kind: .produce, message: "kcat failed (\(process.terminationStatus)); run scripts/bootstrap to install kcat: \(errorText)")
            }
        }
    }
}

@Suite("Hostile records produced by a third-party client", .serialized, .timeLimit(.minutes(3)), .tags(.broker))
struct HostileRecordTests {
    @Test("kcat-produced forgeries leave no trace: an unregistered source is refused, an orphan is retracted, a record without a partition key and a wrong owner without chain headers are refused with specific reasons and take no place in a chain")
    func forgeriesLeaveNoTrace() async throws {
        let cluster = try ProjectorTests.cluster()
        defer { cluster.shutdown() }
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("accord-hostile-\(UUID().uuidString).sqlite").path
        let reference = store + ".reference.sqlite"
        defer {
            ProjectorIntegrityTests.removeStore(store)
            ProjectorIntegrityTests.removeStore(reference)
        }
        var feed = try SignedFeed()
        let events = EventSamples.mixed(count: 60, caseCount: 6)
        let codec = EventCodec()
        var records: [ProducerRecord] = []
        for event in events[..<30] { records.append(try feed.seal(event)) }
        let target = try #require(events[30...].first { $0.source.kind == .probation })
        let chain = try feed.chain(of: target)

        // (a) A probation office the registry does not know, on its own chain from genesis,
        // raising a real case's risk to very high.
        let rogueSource = try #require(EventSource(urn: "urn:accord:probation:rogue-office"))
        var rogue = target
        rogue.id = UUID()
        rogue.source = rogueSource
        rogue.sequence = 1
        rogue.payload = EventSamples.payload(.riskReassessed, subject: target.subject, variant: 3)
        var rogueWriter = ChainWriter(chain: ChainID(source: rogueSource.urn, topic: chain.topic, partition: chain.partition))
        records.append(SignedFeed.record(try rogueWriter.seal(rogue, codec: codec).message, chain: chain))

        // (b) A record without ce_partitionkey, linked to the genuine head: refused before the
        // chain sees it, so the genuine event that follows is not a fork.
        var unkeyedWriter = try #require(feed.writers[chain])
        var unkeyed = target
        unkeyed.id = UUID()
        var unkeyedMessage = try unkeyedWriter.seal(unkeyed, codec: codec).message
        unkeyedMessage.headers.removeAll { $0.name == "ce_partitionkey" }
        records.append(SignedFeed.record(unkeyedMessage, chain: chain))

        // (c) A forger extends the genuine head with a copy of the next event: orphaned by the
        // source's signed checkpoint, then retracted.
        var forger = try #require(feed.writers[chain])
        var forged = target
        forged.id = UUID()
        forged.payload = EventSamples.payload(.riskReassessed, subject: target.subject, variant: 5)
        records.append(SignedFeed.record(try forger.seal(forged, codec: codec).message, chain: chain))

        // (d) Probation's event on the interventions topic with no chain headers at all.
        var misplaced = target
        misplaced.id = UUID()
        misplaced.sequence = 9_999
        let interventions = ChainID(source: target.source.urn, topic: AccordTopic.interventionsDeliveryEvents.name, partition: 0)
        records.append(SignedFeed.record(try codec.encodeBinary(misplaced), chain: interventions))

        // (e) A genuine record of the chain produced again, byte for byte: a replayed head.
        let earlier = try #require(try events[..<30].lastIndex { try feed.chain(of: $0) == chain })
        records.append(records[earlier])

        // (f) The same genuine record with its value's bytes changed and its headers kept: its
        // event hash no longer matches what the chain signed, and its id is already journaled.
        var tampered = records[earlier]
        tampered.value = Array("{ ".utf8) + tampered.value.dropFirst()

        // (g) A record linked to the genuine head by a forger, whose data fails the schema.
        var invalidWriter = try #require(feed.writers[chain])
        var invalid = target
        invalid.id = UUID()
        invalid.prevHash = invalidWriter.nextPrevHash
        var invalidMessage = try codec.encodeBinary(invalid)
        invalidMessage.value = Array(#"{"caseId": 42}"#.utf8)
        try invalidWriter.append(try EventHashing.hash(headers: invalidMessage.headers, value: invalidMessage.value))
        records.append(tampered)
        records.append(SignedFeed.record(invalidMessage, chain: chain))

        for event in events[30...] { records.append(try feed.seal(event)) }
        records.append(contentsOf: try feed.checkpoints())
        try Kcat.produce(records, to: cluster.bootstrapServers)

        let projector = try Projector(configuration: ProjectorIntegrityTests.configuration(cluster, store: store, registry: feed.registry))
        try await ProjectorIntegrityTests.run(projector) {
            projector.integrity.snapshot().verified == events.count && projector.integrity.snapshot().retracted == 1
        }
        let snapshot = projector.integrity.snapshot()
        #expect(snapshot.verified == events.count && snapshot.retracted == 1 && snapshot.provisional == 0, "\(snapshot)")
        let live = try ProjectorStore(path: store)
        let reasons = try live.deadLetters().map(\.reason)
        #expect(reasons.count == 7, "\(reasons)")
        #expect(reasons.contains { $0.hasPrefix("unknown-source:") && $0.contains(rogueSource.urn) }, "\(reasons)")
        #expect(reasons.contains { $0.contains("partitionkey") }, "\(reasons)")
        #expect(reasons.contains { $0.hasPrefix("orphaned:") && $0.contains("position") }, "\(reasons)")
        #expect(reasons.contains { $0.contains("ce_source") && !$0.hasPrefix("unchained") }, "\(reasons)")
        #expect(reasons.contains { $0.hasPrefix("replayed") }, "\(reasons)")
        #expect(reasons.contains { $0.hasPrefix("data") || $0.contains("caseId") }, "\(reasons)")
        #expect(try live.retractions().map(\.eventId) == [forged.idString])
        #expect(try live.shadowedCount() == 0, "the tampered copy is not kept aside once its chain is settled")
        #expect(try live.chainStates().allSatisfy { $0.chain.source != rogueSource.urn }, "the unregistered source has no chain")
        try ProjectorIntegrityTests.expectSameViewAsGenuineOnly(store: store, reference: reference, genuine: events)
        if let audit = try ProjectorIntegrityTests.auditVerify(store: store, registry: feed.registry) {
            #expect(audit.status == 0, "\(audit.output)")
            #expect(audit.output.contains("events: \(events.count) verified, 0 provisional, 1 retracted"), "\(audit.output)")
        }
        let test = "HostileRecordTests (kcat)"
        func refusal(_ matches: (String) -> Bool) -> String {
            reasons.first(where: matches).map { "dead-lettered: \($0.prefix(110))" } ?? "NOT dead-lettered"
        }
        let applied = "forged records applied: \(snapshot.provisional)"
        ReliabilityLog.record("record from a source not in the key registry, raising a real case's risk", times: 1,
                              outcome: "\(refusal { $0.hasPrefix("unknown-source:") }); \(applied)", test: test)
        ReliabilityLog.record("forged record extending a genuine chain head", times: 1,
                              outcome: "orphaned by the signed checkpoint, retracted: \(snapshot.retracted); "
                                + "view equal to a store that never saw it", test: test)
        ReliabilityLog.record("record without ce_partitionkey", times: 1,
                              outcome: "\(refusal { $0.contains("partitionkey") }); takes no place in a chain", test: test)
        ReliabilityLog.record("record claiming another agency's source, without chain headers", times: 1,
                              outcome: refusal { $0.contains("ce_source") && !$0.hasPrefix("unchained") }, test: test)
        ReliabilityLog.record("genuine record produced again (replayed head)", times: 1,
                              outcome: "\(refusal { $0.hasPrefix("replayed") }); applied once", test: test)
        ReliabilityLog.record("genuine record with its value's bytes changed, headers kept", times: 1,
                              outcome: "not applied; view equal to a store that never saw it; audit verify exit 0", test: test)
        ReliabilityLog.record("record linked to the genuine head with data failing the schema", times: 1,
                              outcome: "\(refusal { $0.hasPrefix("data") || $0.contains("caseId") }); the next genuine event applies", test: test)
    }
}
