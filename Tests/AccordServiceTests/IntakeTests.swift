import AccordEvents
import AccordHTTP
import AccordKafka
import AccordReliabilityLog
import AccordRuntime
import AccordService
import AccordTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The answers of one test, by what was sent, for its `docs/reliability.md` rows.
final class Answers: @unchecked Sendable {
    // @unchecked: appended to by the test's own task only.
    private(set) var byName: [(name: String, statuses: [(status: Int, problem: Bool)])] = []

    func append(_ answer: (name: String, response: TestResponse)) {
        let entry = (answer.response.status.code, answer.response.headers[.contentType] == "application/problem+json")
        if let index = byName.firstIndex(where: { $0.name == answer.name }) {
            byName[index].statuses.append(entry)
        } else {
            byName.append((answer.name, [entry]))
        }
    }
}

@Suite("Agency service HTTP intake over the embedded broker", .serialized, .timeLimit(.minutes(2)))
struct IntakeTests {
    @Test("a valid event is answered 202 once it is in the outbox, and reaches the topic with source and sequence set")
    func singleEvent() async throws {
        let harness = try ServiceHarness()
        let service = try harness.service(.probation)
        let id = UUID()
        let ack = try await harness.run(service) { client in
            let response = try await HTTP.post(client, [
                "type": "org.accord.probation.case-opened.v1", "id": id.uuidString,
                "time": "2025-03-03T09:00:00Z", "correlationid": "corr-1",
                "data": try HTTP.data(.caseOpened, subject: "X100001"),
            ], contentType: "application/json; charset=\"UTF-8\"")
            #expect(response.status == .accepted)
            #expect(response.headers[.contentType] == "application/json")
            return try #require(try HTTP.decode(HTTP.Accepted.self, response).accepted.first)
        }
        #expect(ack.id == id.uuidString.lowercased())
        #expect(ack.sequence == 1)
        #expect(ack.topic == AccordTopic.probationCaseEvents.name)
        #expect(ack.subject == "X100001")
        let events = try await harness.events(on: .probationCaseEvents)
        let event = try #require(events.first)
        #expect(events.count == 1)
        #expect(event.id == id)
        #expect(event.source.urn == "urn:accord:probation:nps-london")
        #expect(event.sequence == 1)
        #expect(event.time.rfc3339 == "2025-03-03T09:00:00Z")
        #expect(event.correlationId == "corr-1")
    }

    @Test("a batch gets strictly increasing sequence numbers in request order, continued by the next batch")
    func batchSequences() async throws {
        let harness = try ServiceHarness()
        let service = try harness.service(.interventions)
        let (first, second) = try await harness.run(service) { client in
            let batch = try (0..<5).map { i in
                ["type": "unpaid-work-hours-logged", "data": try HTTP.data(.unpaidWorkHoursLogged, subject: "X20000\(i)")] as [String: Any]
            }
            let one = try await HTTP.post(client, batch, contentType: "application/cloudevents-batch+json")
            #expect(one.status == .accepted)
            let two = try await HTTP.post(client, Array(batch.prefix(2)))
            #expect(two.status == .accepted)
            return (try HTTP.decode(HTTP.Accepted.self, one).accepted, try HTTP.decode(HTTP.Accepted.self, two).accepted)
        }
        #expect(first.map(\.sequence) == [1, 2, 3, 4, 5])
        #expect(first.map(\.subject) == (0..<5).map { "X20000\($0)" })
        #expect(second.map(\.sequence) == [6, 7])
        let events = try await harness.events(on: .interventionsDeliveryEvents)
        #expect(events.map(\.sequence) == Array(1...7))
        #expect(Set(events.map(\.source.urn)) == ["urn:accord:interventions:ace-payback"])
    }

    @Test("invalid input is refused with problem+json and nothing is published")
    func invalidInput() async throws {
        let harness = try ServiceHarness()
        let service = try harness.service(.interventions)
        let answers = Answers()
        try await harness.run(service) { client in
            // An invalid field inside a batch: the whole batch is refused.
            var bad = try HTTP.data(.unpaidWorkHoursLogged, subject: "X300001")
            bad["hours"] = "eight"
            let good = try HTTP.data(.unpaidWorkHoursLogged, subject: "X300002")
            let invalid = try await HTTP.post(client, [["type": "unpaid-work-hours-logged", "data": good],
                                                       ["type": "unpaid-work-hours-logged", "data": bad]])
            #expect(invalid.status == .unprocessableContent)
            answers.append(("invalid field in a batch", invalid))
            #expect(invalid.headers[.contentType] == "application/problem+json")
            let problem = try HTTP.decode(ProblemDetails.self, invalid)
            let error = try #require(problem.errors?.first)
            #expect(error.field == "data.hours")
            #expect(error.index == 1)
            #expect(error.pointer == "/1/data/hours")

            // Another agency's type names the type.
            let foreign = try await HTTP.post(client, ["type": "org.accord.probation.case-opened.v1",
                                                       "data": try HTTP.data(.caseOpened, subject: "X300003")])
            #expect(foreign.status == .unprocessableContent)
            answers.append(("another agency's event type", foreign))
            let foreignProblem = try HTTP.decode(ProblemDetails.self, foreign)
            #expect(foreignProblem.errors?.first?.field == "type")
            #expect(foreignProblem.detail.contains("org.accord.probation.case-opened.v1"))

            // A time the store could not hold exactly (year 9999), and one just inside the range's end.
            for (time, pointer) in [("9999-12-31T23:59:59Z", "/0/time"), ("1899-12-31T23:59:59Z", "/0/time")] {
                let far = try await HTTP.post(client, [["type": "unpaid-work-hours-logged", "time": time, "data": good]])
                #expect(far.status == .unprocessableContent, "\(time)")
                answers.append(("date out of range (year 9999 or 1899)", far))
                let farProblem = try HTTP.decode(ProblemDetails.self, far)
                #expect(farProblem.errors?.first?.pointer == pointer, "\(time): \(farProblem.errors ?? [])")
                #expect(farProblem.errors?.first?.message.contains("2200-01-01T00:00:00Z") == true, "\(time)")
            }

            // A name given twice inside data (the first value would win silently) and a field the
            // kind does not define (a decoder would drop it) are refused and named.
            let goodText = String(decoding: try HTTP.body(good).readableBytesView, as: UTF8.self)
            let twice = "[{\"type\": \"unpaid-work-hours-logged\", \"data\": " + goodText.dropLast() + ", \"hours\": 99}}]"
            let unknownField = "[{\"type\": \"unpaid-work-hours-logged\", \"data\": " + goodText.dropLast() + ", \"note\": \"kept?\", \"optionalNothing\": null}}]"
            for (body, reason, pointer) in [(twice, "duplicate-key", "/0/data/hours"), (unknownField, "unknown-field", "/0/data/note")] {
                let refused = try await client.execute(uri: "/v1/events", method: .post, headers: [.contentType: "application/json"],
                                                       body: ByteBuffer(string: body))
                #expect(refused.status == .unprocessableContent, "\(reason)")
                answers.append(("\(reason) inside data", refused))
                let problem = try HTTP.decode(ProblemDetails.self, refused)
                #expect(problem.errors?.map(\.reason) == [reason], "\(problem.errors ?? [])")
                #expect(problem.errors?.first?.pointer == pointer, "\(problem.errors ?? [])")
            }

            // JSON is UTF-8: another charset is refused, charset=utf-8 is fine.
            let latin = try await client.execute(uri: "/v1/events", method: .post,
                                                 headers: [.contentType: "application/json; charset=iso-8859-1"],
                                                 body: try HTTP.body(["type": "unpaid-work-hours-logged", "data": good]))
            #expect(latin.status == .unsupportedMediaType)
            answers.append(("charset iso-8859-1", latin))
            #expect(try HTTP.decode(ProblemDetails.self, latin).detail.contains("iso-8859-1"))

            // Unknown type.
            let unknown = try await HTTP.post(client, ["type": "tea-made", "data": [:] as [String: Any]])
            #expect(unknown.status == .unprocessableContent)
            answers.append(("unknown event type", unknown))

            // Malformed JSON says where.
            let malformed = try await client.execute(uri: "/v1/events", method: .post, headers: [.contentType: "application/json"],
                                                     body: ByteBuffer(string: "{\n  \"type\": \"referral-accepted\",\n  \"data\": {,}\n}"))
            #expect(malformed.status == .badRequest)
            answers.append(("malformed JSON", malformed))
            let syntax = try HTTP.decode(ProblemDetails.self, malformed)
            #expect(syntax.line == 3)
            #expect(syntax.column == 12)

            // Wrong content type.
            let text = try await client.execute(uri: "/v1/events", method: .post, headers: [.contentType: "text/plain"],
                                                body: ByteBuffer(string: "hello"))
            #expect(text.status == .unsupportedMediaType)
            answers.append(("wrong content type", text))
            #expect(text.headers[.contentType] == "application/problem+json")

            // Too large.
            let huge = try await client.execute(uri: "/v1/events", method: .post, headers: [.contentType: "application/json"],
                                                body: ByteBuffer(repeating: UInt8(ascii: " "), count: 5 * 1024 * 1024 + 1))
            #expect(huge.status == .contentTooLarge)
            answers.append(("body over 5 MB", huge))
        }
        let published = try await harness.events(on: .interventionsDeliveryEvents).count
        #expect(published == 0)
        for (name, statuses) in answers.byName {
            let problems = statuses.filter { $0.problem }.map { "\($0.status)" }
            ReliabilityLog.record("HTTP intake: \(name)", times: statuses.count,
                                  outcome: (problems.count == statuses.count ? "\(Set(problems).sorted().joined(separator: ", ")) problem+json"
                                    : "\(statuses.count - problems.count) answers NOT problem+json") + "; events published: \(published)",
                                  test: "IntakeTests")
        }
    }

    @Test("CloudEvents HTTP binary mode publishes the body as data")
    func binaryMode() async throws {
        let harness = try ServiceHarness()
        let service = try harness.service(.commissioner)
        let id = UUID()
        let ack = try await harness.run(service) { client in
            var headers: HTTPFields = [.contentType: "application/json"]
            headers[try #require(HTTPField.Name("ce-type"))] = "org.accord.commissioning.contract-awarded.v1"
            headers[try #require(HTTPField.Name("ce-id"))] = id.uuidString
            headers[try #require(HTTPField.Name("ce-time"))] = "2025-04-01T10:00:00+01:00"
            let response = try await client.execute(uri: "/v1/events", method: .post, headers: headers,
                                                    body: try HTTP.body(try HTTP.data(.contractAwarded, subject: "CT-0042")))
            #expect(response.status == .accepted)

            var invalid = headers
            invalid[try #require(HTTPField.Name("ce-id"))] = nil
            var data = try HTTP.data(.contractAwarded, subject: "CT-0043")
            data["commissionerId"] = "pcc-east"
            let refused = try await client.execute(uri: "/v1/events", method: .post, headers: invalid, body: try HTTP.body(data))
            #expect(refused.status == .unprocessableContent)
            let problem = try HTTP.decode(ProblemDetails.self, refused)
            #expect(problem.errors?.first?.field == "data.commissionerId")
            #expect(problem.errors?.first?.pointer == "/commissionerId")
            return try #require(try HTTP.decode(HTTP.Accepted.self, response).accepted.first)
        }
        #expect(ack.id == id.uuidString.lowercased())
        #expect(ack.sequence == 1)
        let events = try await harness.events(on: .commissioningEvents)
        #expect(events.map(\.id) == [id])
        #expect(events.first?.time.rfc3339 == "2025-04-01T09:00:00Z")
        #expect(events.first?.source.urn == "urn:accord:commissioner:pcc-west")
    }

    @Test("a retry with the same id gets the original acknowledgement and is published once")
    func idempotentRetry() async throws {
        let harness = try ServiceHarness()
        let service = try harness.service(.probation)
        let id = UUID()
        let submission = try HTTP.body(["type": "practitioner-allocated", "id": id.uuidString,
                                        "data": try HTTP.data(.practitionerAllocated, subject: "X400001")] as [String: Any])
        try await harness.run(service) { client in
            let first = try await HTTP.post(client, raw: submission)
            let second = try await HTTP.post(client, raw: submission)
            #expect(first.status == .accepted)
            #expect(second.status == .accepted)
            #expect(try HTTP.decode(HTTP.Accepted.self, first).accepted == HTTP.decode(HTTP.Accepted.self, second).accepted)
            // The same id for a different event is a conflict.
            let other = try await HTTP.post(client, ["type": "practitioner-allocated", "id": id.uuidString,
                                                     "data": try HTTP.data(.practitionerAllocated, subject: "X400002")])
            #expect(other.status == .conflict)
            // The acknowledgement can be looked up.
            let lookup = try await client.execute(uri: "/v1/events/\(id.uuidString)", method: .get)
            #expect(lookup.status == .ok)
            #expect(try HTTP.decode(Acknowledgement.self, lookup).sequence == 1)
        }
        #expect(try await harness.events(on: .probationCaseEvents).map(\.id) == [id])

        // After a restart, the id is still known (kept in the outbox).
        let restarted = try harness.service(.probation)
        try await harness.run(restarted) { client in
            let again = try await HTTP.post(client, raw: submission)
            #expect(again.status == .accepted)
            #expect(try HTTP.decode(HTTP.Accepted.self, again).accepted.first?.sequence == 1)
        }
        #expect(try await harness.events(on: .probationCaseEvents).count == 1)
    }

    @Test("a new instance on the same outbox continues the sequence after the highest")
    func restartContinuesSequence() async throws {
        let harness = try ServiceHarness()
        try await harness.run(try harness.service(.interventions)) { client in
            let batch = try (0..<3).map { i in
                ["type": "appointment-attended", "data": try HTTP.data(.appointmentAttended, subject: "X50000\(i)")] as [String: Any]
            }
            #expect(try await HTTP.post(client, batch).status == .accepted)
        }
        let second = try harness.service(.interventions)
        let ack = try await harness.run(second) { client in
            let health = try HTTP.json(try await client.execute(uri: "/health", method: .get))
            #expect(health["lastSequence"] as? Int == 3)
            let response = try await HTTP.post(client, ["type": "appointment-attended",
                                                        "data": try HTTP.data(.appointmentAttended, subject: "X500009")])
            return try #require(try HTTP.decode(HTTP.Accepted.self, response).accepted.first)
        }
        #expect(ack.sequence == 4)
        #expect(try await harness.events(on: .interventionsDeliveryEvents).map(\.sequence) == [1, 2, 3, 4])
    }

    @Test("health and metrics respond; metrics count accepted events")
    func healthAndMetrics() async throws {
        let harness = try ServiceHarness()
        let service = try harness.service(.probation)
        try await harness.run(service) { client in
            let health = try await client.execute(uri: "/health", method: .get)
            #expect(health.status == .ok)
            let body = try HTTP.json(health)
            #expect(body["status"] as? String == "ok")
            #expect(body["agency"] as? String == "nps-london")
            #expect(body["source"] as? String == "urn:accord:probation:nps-london")
            #expect(try await HTTP.post(client, ["type": "case-closed", "data": try HTTP.data(.caseClosed, subject: "X600001")]).status == .accepted)
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(metrics.status == .ok)
            let text = String(buffer: metrics.body)
            #expect(text.contains("accord_intake_events_accepted_total{agency=\"nps-london\"} 1"))
            #expect(text.contains("accord_http_requests_total"))
            #expect(text.contains("accord_reaction_lag_records"))
            let missing = try await client.execute(uri: "/nowhere", method: .get)
            #expect(missing.status == .notFound)
            #expect(missing.headers[.contentType] == "application/problem+json")
            #expect(try await client.execute(uri: "/nowhere", method: .delete).status == .notFound)
        }
    }

    @Test("an undeclared method on a known path is 405 problem+json with Allow, and publishes nothing")
    func undeclaredMethodIs405() async throws {
        let harness = try ServiceHarness()
        let service = try harness.service(.probation)
        try await harness.run(service) { client in
            for (uri, method, allow) in [("/v1/events", HTTPRequest.Method.get, "POST"), ("/v1/events", .put, "POST"),
                                         ("/health", .post, "GET, HEAD"), ("/v1/events/\(UUID().uuidString)", .delete, "GET, HEAD"),
                                         ("/v1/chains/probation.case-events.v1/0/events", .post, "GET, HEAD")] {
                let response = try await client.execute(uri: uri, method: method, headers: [.contentType: "application/json"],
                                                        body: ByteBuffer(string: "[]"))
                #expect(response.status == .methodNotAllowed, "\(method) \(uri): \(response.status)")
                #expect(response.headers[.allow] == allow, "\(method) \(uri)")
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(String(buffer: response.body).contains("\"status\":405"), "\(String(buffer: response.body))")
            }
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(metrics.contains("accord_intake_events_accepted_total{agency=\"nps-london\"} 0"))
        }
    }
}
