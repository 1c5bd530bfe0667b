import AccordEvents
import AccordSimulation
import Testing

/// The simulated caseload transfers cases with `case-transferred.v2`, naming the receiving office.
@Suite("Simulated transfers name the receiving probation office")
struct TransferSimulationTests {
    @Test("every transfer is v2 and names the office that holds the area joined")
    func transfersAreV2NamingTheReceivingOffice() throws {
        let config = SimulationConfig()
        let officeOfArea = config.areaOffices
        var opener: [String: String] = [:]
        var transfers = 0
        var betweenOffices = 0
        for s in Fixture.plan.submissions {
            switch s.data {
            case .probation(.caseOpened(let c)):
                opener[c.caseId] = s.agencyId
            case .probation(.caseTransferred(let t)):
                transfers += 1
                #expect(s.type == .caseTransferredV2, "\(t.caseId) transferred as \(s.type.type)")
                let office = try #require(t.toProbationId, "\(t.caseId): transfer without a receiving office")
                #expect(office == officeOfArea.office(for: t.toArea), "\(t.caseId): \(office) does not hold \(t.toArea)")
                #expect(config.probationOffices.contains { $0.id == office })
                if office != opener[t.caseId] { betweenOffices += 1 }
            default:
                break
            }
        }
        #expect(transfers > 0)
        #expect(betweenOffices > 0, "no transfer moved a case to another office")
    }

    @Test("the world's areas map to its offices, and the default world's map is the projector's default")
    func areaOfficesOfTheWorld() {
        #expect(SimulationConfig().areaOffices == AreaOffices.simulatedPartnership)
        var config = SimulationConfig()
        config.probationOffices = [ProbationOffice(id: "nps-north", areas: ["yorkshire", "london-north"], weight: 1),
                                   ProbationOffice(id: "nps-other", areas: ["london-north"], weight: 1)]
        #expect(config.areaOffices.officeByArea == ["yorkshire": "nps-north", "london-north": "nps-north"])
    }
}
