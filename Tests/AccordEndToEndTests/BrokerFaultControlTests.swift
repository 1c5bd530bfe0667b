import AccordProcesses
import Foundation
import Testing

/// `accord broker --fault-port`: the fault control `accord chaos` drives, over real HTTP.
@Suite("The embedded broker's fault control", .serialized, .tags(.broker))
struct BrokerFaultControlTests {
    @Test("POST /v1/faults injects each kind of fault and GET lists them; a bad fault is refused with problem+json naming it",
          .timeLimit(.minutes(2)))
    func control() async throws {
        let port = try Ports.block(1)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("accord-e2e-faults-\(UUID().uuidString.prefix(8))")
        let broker = try ChildProcess(name: "broker", executable: Binaries.path("accord"),
                                      arguments: ["broker", "--brokers", "3", "--partitions", "2", "--fault-port", "\(port)"],
                                      logFile: folder.appendingPathComponent("broker.log"))
        let base = "http://127.0.0.1:\(port)"
        do {
            _ = try await Task.detached { try broker.readFirstLine() }.value
            try await HTTPProbe.waitUntilOK("\(base)/health", timeout: .seconds(30)) { broker.isRunning }
            let accepted = [
                #"{"fault": "broker-down", "broker": 2}"#,
                #"{"fault": "broker-up", "broker": 2}"#,
                #"{"fault": "round-trip-time", "broker": 3, "milliseconds": 250}"#,
                #"{"fault": "leader", "topic": "probation.case-events.v1", "partition": 1, "broker": 3}"#,
                #"{"fault": "request-errors", "api": "join-group", "error": "not-coordinator", "count": 4}"#,
            ]
            for body in accepted {
                let answer = try await HTTPProbe.post("\(base)/v1/faults", body: Data(body.utf8))
                #expect(answer.status == 201, "\(body): \(answer.status) \(answer.text)")
            }
            let refused: [(body: String, names: String)] = [
                (#"{"fault": "broker-down", "broker": 4}"#, "no broker 4"),
                (#"{"fault": "leader", "topic": "no.such.topic", "partition": 0, "broker": 1}"#, "no topic \"no.such.topic\""),
                (#"{"fault": "leader", "topic": "probation.case-events.v1", "partition": 2, "broker": 1}"#, "partitions 0 to 1"),
                (#"{"fault": "request-errors", "api": "produce", "error": "disk-full"}"#, "unknown error \"disk-full\""),
                (#"{"fault": "request-errors", "api": "fetch", "error": "not-coordinator", "count": 0}"#, "count must be"),
                (#"{"fault": "round-trip-time", "broker": 1}"#, "no \"milliseconds\""),
                (#"{"fault": "flood"}"#, "unknown fault \"flood\""),
                ("[1, 2", "not a JSON object"),
            ]
            for case let (body, names) in refused {
                let answer = try await HTTPProbe.post("\(base)/v1/faults", body: Data(body.utf8))
                #expect(answer.status == 400, "\(body): \(answer.status) \(answer.text)")
                #expect(answer.contentType.hasPrefix("application/problem+json"), "\(body)")
                let detail = (try? answer.json() as? [String: Any])?["detail"] as? String ?? ""
                #expect(detail.contains(names), "\(body): \(answer.text)")
            }
            let listing = try await HTTPProbe.get("\(base)/v1/faults")
            let object = try #require(try listing.json() as? [String: Any])
            #expect(object["count"] as? Int == accepted.count, "only the accepted faults are listed: \(listing.text)")
            let kinds = try #require(object["byKind"] as? [String: Int])
            #expect(kinds == ["broker-down": 1, "broker-up": 1, "round-trip-time": 1, "leader": 1, "request-errors": 1])
            // The cluster still serves: the broker's own health answers and it stops cleanly on SIGTERM.
            #expect(broker.isRunning)
        } catch {
            _ = await broker.stop()
            throw error
        }
        let status = await broker.stop()
        #expect(status == 0, "the broker exits 0 on SIGTERM; its log:\n\(broker.logTail())")
        if status == 0 { try? FileManager.default.removeItem(at: folder) }
    }
}
