import AccordKafka
import Foundation
import Testing

@Suite("Broker faults: names and JSON")
struct BrokerFaultTests {
    static let faults: [BrokerFault] = [
        .brokerDown(broker: 2), .brokerUp(broker: 2), .roundTripTime(broker: 1, milliseconds: 400),
        .leader(topic: "probation.case-events.v1", partition: 3, broker: 2),
        .requestErrors(api: .offsetCommit, error: .notCoordinator, count: 5),
    ]

    @Test("every fault reads back from its JSON unchanged", arguments: faults)
    func roundTrip(fault: BrokerFault) throws {
        let json = try JSONEncoder().encode(fault)
        #expect(try JSONDecoder().decode(BrokerFault.self, from: json) == fault, "\(String(decoding: json, as: UTF8.self))")
    }

    @Test("API and error names are kebab case, and read back")
    func names() {
        #expect(EmbeddedKafkaCluster.APIKey.initProducerID.name == "init-producer-id")
        #expect(EmbeddedKafkaCluster.APIKey.joinGroup.name == "join-group")
        #expect(EmbeddedKafkaCluster.ProtocolError.notLeaderOrFollower.name == "not-leader-or-follower")
        for api in EmbeddedKafkaCluster.APIKey.allCases { #expect(EmbeddedKafkaCluster.APIKey(name: api.name) == api) }
        for error in EmbeddedKafkaCluster.ProtocolError.allCases {
            #expect(EmbeddedKafkaCluster.ProtocolError(name: error.name) == error)
        }
        #expect(EmbeddedKafkaCluster.APIKey(name: "Produce") == nil)
    }

    @Test("an unknown kind, API or error is refused, naming the ones that exist")
    func unknownNames() {
        for (body, named) in [(#"{"fault": "flood"}"#, "broker-down"),
                              (#"{"fault": "request-errors", "api": "produc", "error": "request-timed-out"}"#, "produce"),
                              (#"{"fault": "request-errors", "api": "produce", "error": "disk-full"}"#, "not-leader-or-follower")] {
            #expect { try JSONDecoder().decode(BrokerFault.self, from: Data(body.utf8)) } throws: { error in
                "\(error)".contains(named)
            }
        }
    }
}
