import AccordBus
import AccordEvents
import AccordKafka
import AccordProcesses
import AccordProjection
import AccordStore
import AccordSimulation
import AccordReliabilityLog
import Foundation
import Testing

/// The whole loop as separate executables talking over TCP on 127.0.0.1: `accord broker`,
/// the three agency services, the projector, `accord publish` and `accord demo`.
@Suite("End to end over TCP", .serialized, .tags(.broker))
struct EndToEndTests {
    /// Starts one service per agency of `Partnership`, concurrently.
    private func startAgencies(_ stack: Stack) async throws -> [RunningService] {
        async let probation = stack.startService(.probation, Partnership.probation)
        async let provider = stack.startService(.interventions, Partnership.provider)
        async let commissioner = stack.startService(.commissioner, Partnership.commissioner)
        return try await [probation, provider, commissioner]
    }

    /// Compares the projector's digest with the in-process projection's at each instant.
    private func expectSameDigests(_ projector: RunningProjector, _ replay: TopicReplay,
                                   at instants: [(asOf: Timestamp, knownAt: Timestamp?)]) async throws {
        for (asOf, knownAt) in instants {
            let answer = try await projectorDigest(projector, asOf: asOf, knownAt: knownAt)
            let expected = replay.state.digest(asOf: asOf, knownAt: knownAt)
            #expect(answer.digest == expected, "digest as of \(asOf)\(knownAt.map { " known at \($0)" } ?? "") differs from the in-process projection of the topics")
            #expect(answer.events == replay.state.eventCount)
        }
    }

    /// Runs `accord audit replay` on the live store and compares its report with the API's answers.
    private func expectReplayMatchesAPI(_ projector: RunningProjector, store: URL, folder: URL,
                                        at instants: [(asOf: Timestamp, knownAt: Timestamp?)]) async throws {
        for (index, (asOf, knownAt)) in instants.enumerated() {
            let out = folder.appendingPathComponent("replay-\(index)")
            let result = try await runToCompletion(Binaries.path("accord"), [
                "audit", "replay", "--store", store.path, "--as-of", asOf.rfc3339, "--out", out.path,
            ] + (knownAt.map { ["--known-at", $0.rfc3339] } ?? []), folder: folder, name: "replay-\(index)",
               timeout: .seconds(60))
            #expect(result.status == 0, "audit replay:\n\(result.stdout)\n\(result.stderr)")
            let report = try JSONSerialization.jsonObject(
                with: Data(contentsOf: out.appendingPathComponent("report.json"))) as? [String: Any]
            let api = try await projectorDigest(projector, asOf: asOf, knownAt: knownAt)
            #expect(report?["digest"] as? String == api.digest, "replay and query API agree as of \(asOf)")
            var flagsURL = "\(projector.base)/v1/flags?open=true&limit=1&asOf=\(asOf.rfc3339)"
            if let knownAt { flagsURL += "&knownAt=\(knownAt.rfc3339)" }
            let (_, flags) = try await getJSON(flagsURL)
            let summary = report?["summary"] as? [String: Any]
            #expect(summary?["openFlags"] as? Int == flags["total"] as? Int, "open flags agree as of \(asOf)")
        }
    }

    // MARK: 1

    @Test("A seeded caseload through the services' HTTP intake gives the view an in-process projection of the topics gives",
          .timeLimit(.minutes(3)))
    func endToEndOverTCP() async throws {
        try await Stack.with("loop", partitions: 3) { stack in
            let services = try await startAgencies(stack)
            let projector = try await stack.startProjector(store: stack.folder.appendingPathComponent("projector.sqlite"))
            let simulation = try Simulation(config: Partnership.config(cases: 40, seed: 11))
            let plan = simulation.run()
            let config = simulation.config
            let used = Set(plan.submissions.map(\.subject))
            let spot = SpotScenario(caseIds: Partnership.freshCaseIds(2, avoiding: used),
                                    opened: config.startTime.plus(days: 40).plus(days: 9.0 / 24))
            let submissions = plan.submissions + spot.submissions
            #expect(Set(plan.submissions.map(\.agencyId)).isSubset(of: Set(Partnership.agencies.map(\.1))))

            let accepted = try await publishThroughIntake(submissions, services: services)
            stack.trace("published \(accepted)")
            #expect(accepted == submissions.count)

            let replay = try await TopicReplay.read(bootstrap: stack.bootstrap, partitions: stack.partitions)
            #expect(replay.records.count == submissions.count, "every accepted event is on the topics once")
            #expect(replay.distinctEvents == submissions.count)
            #expect(Set(replay.events.map(\.event.id)) == Set(submissions.map(\.id)))
            try await stack.waitUntilCaughtUp(projector, events: replay.state.eventCount)

            // (a) the same view, as of several instants and as known part-way through publishing.
            let recorded = replay.events.map(\.recordedAt).sorted()
            let midway = recorded[recorded.count / 2].wholeSeconds
            try await expectSameDigests(projector, replay, at: [
                (config.startTime.plus(days: 60), nil),
                (config.startTime.plus(days: 200), nil),
                (config.endTime.plus(days: 30), nil),
                (config.endTime.plus(days: 30), midway),
            ])
            // The digest must tell views apart, or the comparison above proves nothing.
            #expect(replay.state.digest(asOf: config.startTime.plus(days: 60))
                    != replay.state.digest(asOf: config.startTime.plus(days: 200)))
            // The auditor's replay of the live store answers exactly as the query API does.
            try await expectReplayMatchesAPI(projector, store: stack.folder.appendingPathComponent("projector.sqlite"),
                                             folder: stack.folder, at: [
                                                 (config.startTime.plus(days: 200), nil),
                                                 (config.endTime.plus(days: 30), midway),
                                             ])

            // (b) hand-made events with known consequences.
            stack.trace("digests compared")
            try await checkSpotScenario(spot, projector: projector, services: services)
            stack.trace("spot checks done")

            // (c) An auditor's rebuild from the topics (events and the agencies' checkpoint
            // records) compares clean with this honest store, digest leaves not yet computed by
            // the projector included.
            let rebuild = try await runToCompletion(Binaries.path("accord"), [
                "audit", "rebuild", "--store", stack.folder.appendingPathComponent("projector.sqlite").path,
                "--from", "kafka", "--bootstrap-servers", stack.bootstrap, "--compare", "--quiet",
                "--output", stack.folder.appendingPathComponent("rebuilt.sqlite").path,
            ], folder: stack.folder, name: "rebuild-from-kafka", timeout: .seconds(120))
            #expect(rebuild.status == 0, "rebuild --from kafka --compare:\n\(rebuild.stdout)\n\(rebuild.stderr)")
            #expect(rebuild.stdout.contains("no differences"), "\(rebuild.stdout)")
        }
    }

    private func flags(_ projector: RunningProjector, rule: FlagRule, subject: String, asOf: Timestamp) async throws -> [[String: Any]] {
        let url = "\(projector.base)/v1/flags?rule=\(rule.rawValue)&subject=\(subject)&asOf=\(asOf.rfc3339)"
        let (status, answer) = try await getJSON(url)
        guard status == 200 else { throw E2EError("GET \(url): \(status) \(answer)") }
        return items(answer)
    }

    private func checkSpotScenario(_ spot: SpotScenario, projector: RunningProjector, services: [RunningService]) async throws {
        let probationURN = "urn:accord:probation:\(Partnership.probation)"
        let providerURN = "urn:accord:interventions:\(Partnership.provider)"

        // A case opened with no practitioner: flagged after the 5 days, accountable probation.
        #expect(try await flags(projector, rule: .caseUnallocated, subject: spot.unallocatedCase,
                                asOf: spot.opened.plus(days: 4)).isEmpty)
        let unallocated = try await flags(projector, rule: .caseUnallocated, subject: spot.unallocatedCase,
                                          asOf: spot.opened.plus(days: 6))
        #expect(unallocated.count == 1)
        if let flag = unallocated.first {
            #expect(flag["open"] as? Bool == true)
            #expect(flag["accountable"] as? String == probationURN)
            #expect(flag["accountableKind"] as? String == "probation")
            #expect(flag["since"] as? String == spot.opened.plus(days: 5).rfc3339)
        }
        // Its twin, allocated within the hour, is not flagged.
        #expect(try await flags(projector, rule: .caseUnallocated, subject: spot.referredCase,
                                asOf: spot.opened.plus(days: 6)).isEmpty)

        // A referral answered 8 days late: open while late, resolved at the answer, accountable the provider.
        let late = try await flags(projector, rule: .referralUnanswered, subject: spot.referredCase,
                                   asOf: spot.referredAt.plus(days: 6))
        #expect(late.count == 1)
        if let flag = late.first {
            #expect(flag["open"] as? Bool == true)
            #expect(flag["accountable"] as? String == providerURN)
            #expect(flag["referralId"] as? String == spot.answeredReferral)
        }
        let answered = try await flags(projector, rule: .referralUnanswered, subject: spot.referredCase,
                                       asOf: spot.referredAt.plus(days: 10))
        let answeredFlag = answered.first { $0["referralId"] as? String == spot.answeredReferral }
        #expect(answeredFlag?["open"] as? Bool == false)
        #expect(answeredFlag?["resolvedAt"] as? String == spot.acceptedAt.rfc3339)

        // The case is in the view with its practitioner and both interventions.
        let (status, caseAnswer) = try await getJSON("\(projector.base)/v1/cases/\(spot.referredCase)?asOf=\(spot.opened.plus(days: 20).rfc3339)")
        #expect(status == 200)
        let caseView = caseAnswer["data"] as? [String: Any]
        #expect((caseView?["practitioner"] as? [String: Any])?["practitionerId"] as? String == "PR-E2E")
        #expect((caseView?["interventions"] as? [Any])?.count == 2)

        // Reactions: probation sees the curfew violation, the provider the referral it has not answered.
        guard let probation = services.first(where: { $0.kind == .probation }),
              let provider = services.first(where: { $0.kind == .interventions }) else {
            throw E2EError("services missing")
        }
        let violation = try await eventually("the curfew violation on \(spot.referredCase) in probation's worklist") { note in
            let (_, worklist) = try await getJSON("\(probation.base)/v1/worklist")
            let mine = items(worklist).filter { $0["caseId"] as? String == spot.referredCase }
            note = "\(worklist["count"] ?? "?") items, for the case: \(mine)"
            return mine.first { $0["event"] as? String == "curfew-violation-detected" }
        }
        #expect(violation["referralId"] as? String == spot.answeredReferral)
        #expect((violation["summary"] as? String)?.contains(spot.violationId) == true)
        #expect(violation["providerId"] as? String == Partnership.provider)

        let referral = try await eventually("referral \(spot.waitingReferral) in the provider's worklist") { note in
            let (_, worklist) = try await getJSON("\(provider.base)/v1/worklist")
            let referrals = items(worklist).compactMap { $0["referralId"] as? String }
            note = "\(referrals.count) referrals: \(referrals.prefix(20))"
            return items(worklist).first { $0["referralId"] as? String == spot.waitingReferral }
        }
        #expect(referral["caseId"] as? String == spot.referredCase)
        #expect(referral["referredBy"] as? String == probationURN)
        // The referral it accepted is not waiting any more.
        let (_, worklist) = try await getJSON("\(provider.base)/v1/worklist")
        #expect(!items(worklist).contains { $0["referralId"] as? String == spot.answeredReferral })
    }

    // MARK: 2

    @Test("Bad records on an agency topic go to the dead-letter topic with a reason, and the projector keeps going",
          .timeLimit(.minutes(2)))
    func deadLetter() async throws {
        try await Stack.with("dlq", partitions: 2) { stack in
            let probation = try await stack.startService(.probation, Partnership.probation)
            let projector = try await stack.startProjector(store: stack.folder.appendingPathComponent("projector.sqlite"))
            let topic = AccordTopic.probationCaseEvents.name
            let caseId = "X777001"
            let time = Timestamp(startOf: CalendarDate(year: 2025, month: 6, day: 2) ?? SimulationConfig.defaultStart)
            let codec = EventCodec()
            let good = SpotScenario(caseIds: [caseId, "X777002"], opened: time).submissions[0]
            guard let probationSource = EventSource(kind: .probation, agencyId: "nps-rogue"),
                  let providerSource = EventSource(kind: .interventions, agencyId: Partnership.provider) else {
                throw E2EError("bad sources")
            }
            let opened = try codec.encodeBinary(AccordEvent(id: UUID(), source: probationSource, time: time, sequence: 1,
                                                            payload: good.data))
            let foreign = try codec.encodeBinary(AccordEvent(
                id: UUID(), source: providerSource, time: time, sequence: 1,
                payload: ReferralAccepted(caseId: caseId, referralId: "REF-\(caseId)-A", providerId: Partnership.provider).payload))
            func record(_ message: BinaryMessage, type: String? = nil, value: [UInt8]? = nil) -> ProducerRecord {
                let headers = message.headers.map { header in
                    header.name == "ce_type" && type != nil ? KafkaHeader(key: "ce_type", string: type ?? "")
                        : KafkaHeader(key: header.name, value: header.value)
                }
                return ProducerRecord(topic: topic, key: message.key, value: value ?? message.value, headers: headers)
            }
            let bad: [(record: ProducerRecord, reason: [String])] = [
                (record(foreign), ["urn:accord:interventions:\(Partnership.provider)", "owned by probation"]),
                (record(opened, type: "org.accord.probation.case-reopened.v1"), ["unknown event type", "case-reopened"]),
                (record(opened, value: Array(#"{"caseId": "X777001", "orderType": "#.utf8)), ["JSON"]),
            ]
            let producer = try KafkaProducer(configuration: .init(bootstrapServers: stack.bootstrap, clientID: "accord-e2e-rogue"))
            var partitions: Set<Int32> = []
            for item in bad {
                partitions.insert(try await producer.send(item.record).partition)
            }
            _ = await producer.shutdown(timeout: .seconds(5))
            #expect(partitions.count == 1, "bad records share their case's partition")

            // A valid event about the same case, after the bad ones on the same partition.
            let accepted = try await publishThroughIntake([good], services: [probation])
            #expect(accepted == 1)
            stack.trace("bad records and the good one published")

            let letters = try await eventually("three records on \(AccordTopic.deadLetter.name)") { note in
                let records = try await TopicReplay.readAll(bootstrap: stack.bootstrap, partitions: stack.partitions,
                                                            topics: [AccordTopic.deadLetter.name])
                note = "\(records.count) records"
                return records.count >= bad.count ? records : nil
            }
            #expect(letters.count == bad.count, "each bad record is dead-lettered once")
            let reasons = letters.compactMap { $0.header(DeadLetterHeaders.reason)?.stringValue }
            #expect(reasons.count == bad.count)
            stack.trace("dead-letter reasons: \(reasons)")
            for (item, name) in zip(bad, ["event on a topic its source does not own", "unknown event type", "truncated JSON value"]) {
                let match = letters.first { $0.value == item.record.value && $0.headers.contains { $0.key == "ce_type" && item.record.headers.contains($0) } }
                let reason = match?.header(DeadLetterHeaders.reason)?.stringValue ?? ""
                ReliabilityLog.record("record on a topic: \(name)", times: 1,
                                      outcome: reason.isEmpty ? "NOT dead-lettered"
                                        : "dead-lettered: \(reason.prefix(110)); the projector kept going",
                                      test: "EndToEndTests (Kafka producer)")
                for word in item.reason {
                    #expect(reason.contains(word), "dead-letter reason \"\(reason)\" names \(word)")
                }
                #expect(match?.header(DeadLetterHeaders.topic)?.stringValue == topic)
                #expect(match?.keyString == caseId)
            }

            // The projector went on: the valid event is in the view, and nothing else is.
            try await stack.waitUntilCaughtUp(projector, events: 1)
            let (status, answer) = try await getJSON("\(projector.base)/v1/cases/\(caseId)?asOf=\(time.plus(days: 1).rfc3339)")
            #expect(status == 200)
            #expect((answer["data"] as? [String: Any])?["probationSource"] as? String == "urn:accord:probation:\(Partnership.probation)")
            #expect(projector.process.isRunning)
        }
    }

    // MARK: 3

    @Test("A projector killed mid-stream resumes from its store: nothing lost, nothing doubled",
          .timeLimit(.minutes(3)))
    func restartAfterKill() async throws {
        try await Stack.with("restart", partitions: 3) { stack in
            let services = try await startAgencies(stack)
            let simulation = try Simulation(config: Partnership.config(cases: 200, seed: 23))
            let plan = simulation.run()
            let config = simulation.config
            let split = plan.submissions.count * 3 / 4
            let first = Array(plan.submissions[..<split])
            let rest = Array(plan.submissions[split...])
            #expect(first.count >= 2_500, "a few thousand events before the kill")
            #expect(try await publishThroughIntake(first, services: services) == first.count)

            // Kill the projector while it is still consuming.
            let store = stack.folder.appendingPathComponent("projector.sqlite")
            let doomed = try await stack.startProjector(name: "projector-killed", store: store, batchSize: 25)
            let seen = try await eventually("the projector to apply 300 events of the backlog", timeout: .seconds(60),
                                            every: .milliseconds(5)) { note in
                let (_, health) = try await getJSON("\(doomed.base)/health")
                let count = eventCount(health) ?? 0
                note = "\(count) events"
                return count >= 300 ? count : nil
            }
            doomed.process.kill()
            stack.trace("killed the projector after \(seen) events")
            #expect(seen < first.count, "killed mid-stream (after \(seen) of \(first.count) events)")
            #expect(try await publishThroughIntake(rest, services: services) == rest.count)
            stack.trace("published the rest")

            let replay = try await TopicReplay.read(bootstrap: stack.bootstrap, partitions: stack.partitions)
            #expect(replay.distinctEvents == plan.submissions.count)
            #expect(replay.records.count == plan.submissions.count)

            // A new consumer group: the projector cannot be given a shorter session timeout, and in
            // its old group the killed member would hold the partitions for the default 45 s. The
            // store is the authority on where to resume, so the group's committed offsets do not matter.
            let projector = try await stack.startProjector(name: "projector-restarted", store: store,
                                                           group: "accord-projector-restarted")
            let resumedFrom = try resumePoint(projector)
            stack.trace("restarted projector opened its store with \(resumedFrom) events")
            #expect(resumedFrom >= seen, "the restarted projector kept what the killed one had committed")
            try await stack.waitUntilCaughtUp(projector, events: replay.distinctEvents, timeout: .seconds(120))
            // It resumed where its store left off: it applied only the rest and saw no record twice.
            let metrics = try await HTTPProbe.get("\(projector.base)/metrics").text
            #expect(metricValue(metrics, "accord_projector_events_applied_total") == replay.distinctEvents - resumedFrom,
                    "events applied after the restart:\n\(metrics)")
            #expect(metricValue(metrics, "accord_projector_events_duplicate_total") ?? 0 == 0,
                    "records read again after the restart:\n\(metrics)")
            try await expectSameDigests(projector, replay, at: [
                (config.startTime.plus(days: 90), nil),
                (config.startTime.plus(days: 250), nil),
                (config.endTime.plus(days: 30), nil),
            ])
        }
    }

    /// The value of a metric without labels in a Prometheus exposition, if present.
    private func metricValue(_ exposition: String, _ name: String) -> Int? {
        for line in exposition.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)).map { Int($0) }
        }
        return nil
    }

    /// The number of events the projector rebuilt from its journal at start: its log's
    /// "view rebuilt from journal events=N" line (0 without one).
    private func resumePoint(_ projector: RunningProjector) throws -> Int {
        let log = try String(contentsOf: projector.process.logFile, encoding: .utf8)
        guard let line = log.split(separator: "\n").first(where: { $0.contains("view opened") }) else { return 0 }
        guard let range = line.range(of: "events=") else { throw E2EError("no event count in \"\(line)\"") }
        let digits = line[range.upperBound...].prefix { $0.isNumber }
        guard let count = Int(digits) else { throw E2EError("no event count in \"\(line)\"") }
        return count
    }

    // MARK: 4

    @Test("accord publish sends an NDJSON file, names the invalid lines and exits 1; the valid events reach the view",
          .timeLimit(.minutes(2)))
    func publishCommand() async throws {
        try await Stack.with("publish", partitions: 2) { stack in
            let probation = try await stack.startService(.probation, Partnership.probation)
            let projector = try await stack.startProjector(store: stack.folder.appendingPathComponent("projector.sqlite"))
            let start = CalendarDate(year: 2025, month: 5, day: 1) ?? SimulationConfig.defaultStart
            let time = Timestamp(startOf: start)
            let cases = (1...9).map { "X66000\($0)" }
            var submissions: [Submission] = []
            for (i, caseId) in cases.enumerated() {
                let at = time.plus(days: Double(i))
                submissions.append(Submission(agency: .probation, agencyId: Partnership.probation, time: at, data: CaseOpened(
                    caseId: caseId, orderType: .licence, requirements: [.drugTreatment], startDate: at.utcDate,
                    expectedEndDate: at.utcDate.adding(days: 200) ?? start, area: Partnership.area, riskLevel: .medium).payload,
                    id: UUID()))
                submissions.append(Submission(agency: .probation, agencyId: Partnership.probation, time: at.plus(days: 1),
                                              data: PractitionerAllocated(caseId: caseId, practitionerId: "PR-\(i)", team: "t").payload,
                                              id: UUID()))
            }
            let renderer = SubmissionRenderer()
            var lines = try submissions.map { String(decoding: try renderer.json($0), as: UTF8.self) }
            // Line 7: not JSON at all; line 15: a case reference that breaks the schema.
            lines.insert(#"{"type": "case-opened", "data": {"caseId": "X660099""#, at: 6)
            lines.insert(#"{"type": "case-opened", "time": "2025-05-03T00:00:00Z", "data": {"caseId": "not-a-case", "orderType": "licence", "requirements": [{"kind": "drug-treatment"}], "startDate": "2025-05-03", "expectedEndDate": "2025-12-01", "area": "e2e-north", "riskLevel": "low"}}"#, at: 14)
            #expect(lines.count == 20)
            let file = stack.folder.appendingPathComponent("events.ndjson")
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: file)

            let result = try await runToCompletion(Binaries.path("accord"), [
                "publish", "--service", probation.intake, "--quiet", file.path,
            ], folder: stack.folder, name: "publish", timeout: .seconds(60))
            #expect(result.status == 1, "exit status; stdout:\n\(result.stdout)\nstderr:\n\(result.stderr)")
            #expect(result.stdout.contains("accepted 18, rejected 2"), "summary:\n\(result.stdout)")
            let named = Set(result.stdout.split(separator: "\n").compactMap { line -> Int? in
                let text = line.trimmingCharacters(in: .whitespaces)
                guard text.hasPrefix("line "), let colon = text.firstIndex(of: ":") else { return nil }
                return Int(text[text.index(text.startIndex, offsetBy: 5)..<colon])
            })
            #expect(named == [7, 15], "lines named in the summary:\n\(result.stdout)")
            #expect(result.stdout.contains("not-a-case"), "the schema problem is explained:\n\(result.stdout)")

            try await stack.waitUntilCaughtUp(projector, events: 18)
            for (i, caseId) in cases.enumerated() {
                let (status, answer) = try await getJSON("\(projector.base)/v1/cases/\(caseId)?asOf=\(time.plus(days: 30).rfc3339)")
                #expect(status == 200, "case \(caseId)")
                let practitioner = (answer["data"] as? [String: Any])?["practitioner"] as? [String: Any]
                #expect(practitioner?["practitionerId"] as? String == "PR-\(i)")
            }
            let (_, missing) = try await getJSON("\(projector.base)/v1/cases/X660099")
            #expect(missing["status"] as? Int == 404)
        }
    }

    @Test("accord publish keeps retrying while its service is killed and restarted, and every event reaches the view once",
          .timeLimit(.minutes(3)))
    func publishThroughARestart() async throws {
        try await Stack.with("publish-restart", partitions: 2) { stack in
            let probation = try await stack.startService(.probation, Partnership.probation)
            let projector = try await stack.startProjector(store: stack.folder.appendingPathComponent("projector.sqlite"))
            let start = Timestamp(startOf: CalendarDate(year: 2025, month: 5, day: 1) ?? SimulationConfig.defaultStart)
            let renderer = SubmissionRenderer()
            let count = 6_000
            var lines: [String] = []
            for i in 0..<count {
                let at = start.plus(days: Double(i % 300) / 10)
                let caseId = "X7\(String(format: "%05d", i))"  // schema: X + 6 digits
                let submission = Submission(agency: .probation, agencyId: Partnership.probation, time: at, data: CaseOpened(
                    caseId: caseId, orderType: .licence, requirements: [.drugTreatment], startDate: at.utcDate,
                    expectedEndDate: at.utcDate.adding(days: 200) ?? at.utcDate, area: Partnership.area, riskLevel: .medium).payload,
                    id: UUID())
                lines.append(String(decoding: try renderer.json(submission), as: UTF8.self))
            }
            let file = stack.folder.appendingPathComponent("many.ndjson")
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: file)

            let publish = Task {
                try await runToCompletion(Binaries.path("accord"), [
                    "publish", "--service", probation.intake, "--batch-size", "20", "--retry-for", "60", "--quiet", file.path,
                ], folder: stack.folder, name: "publish", timeout: .seconds(120))
            }
            // Kill the service once it has taken part of the file, keep it down for a few seconds, restart it.
            _ = try await eventually("the service to accept some events", timeout: .seconds(60)) { note in
                let metrics = try await HTTPProbe.get("\(probation.base)/metrics").text
                let accepted = metricValue(metrics, "accord_intake_events_accepted_total{agency=\"\(Partnership.probation)\"}") ?? 0
                note = "\(accepted) accepted"
                return accepted >= 200 ? true : nil
            }
            probation.process.kill()
            try await Task.sleep(for: .seconds(3))
            _ = try await stack.startService(.probation, Partnership.probation, port: probation.port)
            let result = try await publish.value
            #expect(result.status == 0, "exit status; stdout:\n\(result.stdout)\nstderr:\n\(result.stderr)")
            #expect(result.stdout.contains("accepted \(count), rejected 0"), "summary:\n\(result.stdout)")
            #expect(result.stderr.contains("retrying for up to 60 s"), "the wait is announced:\n\(result.stderr)")
            // Accepted before the kill (in the outbox), retried after it (idempotent ids): each event once.
            try await stack.waitUntilCaughtUp(projector, events: count)
        }
    }

    // MARK: 5

    @Test("accord demo runs the whole loop, prints the query URLs and stops everything; its store then verifies and replays",
          .timeLimit(.minutes(4)))
    func demoSmoke() async throws {
        let base = try Ports.block(10)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("accord-e2e-demo-\(UUID().uuidString.prefix(8))")
        let result = try await runToCompletion(Binaries.path("accord"), [
            "demo", "--cases", "30", "--exit-when-done", "--port", "\(base)", "--data-dir", folder.appendingPathComponent("data").path,
        ], folder: folder, name: "demo", timeout: .seconds(150))
        #expect(result.status == 0, "exit status; stdout:\n\(result.stdout)\nstderr:\n\(result.stderr.suffix(3000))")
        let api = "http://127.0.0.1:\(base)"
        for url in ["\(api)/v1/flags?open=true", "\(api)/v1/cases/X", "\(api)/v1/contracts/CT-", "\(api)/v1/areas/",
                    "\(api)/openapi.json", "\(api)/ready"] {
            #expect(result.stdout.contains(url), "stdout names \(url):\n\(result.stdout)")
        }
        for port in (base + 1)...(base + 9) {
            #expect(result.stdout.contains("http://127.0.0.1:\(port)/v1/"), "stdout names the service on \(port)")
        }
        #expect(result.stdout.contains("; the view holds all") && result.stdout.contains("Nothing was lost."),
                "the demo ends comparing the events accepted with the view:\n\(result.stdout)")
        // Everything it started is gone: every port is free again.
        _ = try await eventually("the demo's ports to be free again", timeout: .seconds(15)) { note in
            let busy = (base...(base + 9)).filter { !Ports.isFree($0) }
            note = "still in use: \(busy)"
            return busy.isEmpty ? true : nil
        }
        guard result.status == 0 else { return }
        try await auditDemoStore(folder: folder)
        try? FileManager.default.removeItem(at: folder)
    }

    /// Demo caseload → `accord audit verify` → `accord audit replay` at three instants in both
    /// perspectives; each report must match a projection computed here from the journal's events.
    func auditDemoStore(folder: URL) async throws {
        let data = folder.appendingPathComponent("data")
        let store = data.appendingPathComponent("projector.sqlite").path
        let registry = data.appendingPathComponent("keys/registry.json").path
        let verify = try await runToCompletion(Binaries.path("accord"), [
            "audit", "verify", "--store", store, "--key-registry", registry,
        ], folder: folder, name: "audit-verify", timeout: .seconds(60))
        #expect(verify.status == 0, "audit verify:\n\(verify.stdout)\n\(verify.stderr)")
        #expect(verify.stdout.contains("journal intact"), "\(verify.stdout)")

        // The expectation: every journaled event, folded independently of the audit code.
        var all = ProjectionState()
        var events: [(event: AccordEvent, recordedAt: Timestamp)] = []
        try ProjectorStore(readOnlyPath: store).forEachJournalEntry { entry in
            let event = try entry.decodeEvent()
            let recordedAt = entry.recordedAt
            events.append((event, recordedAt))
            all.apply(event, recordedAt: recordedAt)
        }
        #expect(events.count > 100, "the demo journaled its caseload")
        // Some events are recorded late (their Kafka timestamp lags their time), as the demo says.
        let lateRecorded = events.filter { $0.recordedAt > ($0.event.time.adding(seconds: 3600) ?? $0.event.time) }
        #expect(!lateRecorded.isEmpty, "the demo records some events late")
        let times = events.map(\.event.time).sorted()
        for quarter in 1...3 {
            let instant = times[times.count * quarter / 4]
            for asShown in [false, true] {
                let out = folder.appendingPathComponent("replay-\(quarter)-\(asShown)")
                let replay = try await runToCompletion(Binaries.path("accord"), [
                    "audit", "replay", "--store", store, "--as-of", instant.rfc3339, "--out", out.path,
                ] + (asShown ? ["--as-shown"] : []), folder: folder, name: "audit-replay-\(quarter)-\(asShown)",
                   timeout: .seconds(60))
                #expect(replay.status == 0, "audit replay:\n\(replay.stdout)\n\(replay.stderr)")
                let report = try JSONSerialization.jsonObject(
                    with: Data(contentsOf: out.appendingPathComponent("report.json"))) as? [String: Any]
                let knownAt: Timestamp? = asShown ? instant : nil
                #expect(report?["digest"] as? String == all.digest(asOf: instant, knownAt: knownAt),
                        "report digest at \(instant) (as shown: \(asShown))")
                let summary = report?["summary"] as? [String: Any]
                #expect(summary?["openFlags"] as? Int
                        == all.flags(asOf: instant, knownAt: knownAt, filter: .openOnly).count)
                let late = events.filter { $0.event.time <= instant && $0.recordedAt > instant }.count
                #expect(summary?["lateRecordedEvents"] as? Int == late, "events recorded after \(instant) that changed it")
                #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("report.html").path))
            }
        }
    }
}

/// The dead-letter headers the projector adds (`DeadLetterPublisher` in AccordProjector).
enum DeadLetterHeaders {
    static let reason = "accord-dlq-reason"
    static let topic = "accord-dlq-topic"
}
