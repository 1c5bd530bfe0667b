import AccordEvents
import AccordSimulation
import Foundation
import Testing

/// One default plan shared by the tests (planning is deterministic, so sharing is safe).
enum Fixture {
    static let simulation: Simulation = {
        do { return try Simulation(config: SimulationConfig()) } catch { preconditionFailure("default config: \(error)") }
    }()
    static let plan = simulation.run()
}

@Suite("Simulation")
struct SimulationTests {
    let renderer = SubmissionRenderer()

    @Test("same seed gives a byte-identical plan; another seed a different one")
    func determinism() throws {
        let config = SimulationConfig(cases: 300, seed: 42)
        let a = try renderer.ndjson(try Simulation(config: config).plan())
        let b = try renderer.ndjson(try Simulation(config: config).plan())
        #expect(a == b)
        #expect(!a.isEmpty)
        var other = config
        other.seed = 43
        let c = try renderer.ndjson(try Simulation(config: other).plan())
        #expect(a != c)
    }

    @Test("every planned payload encodes, decodes back equal and validates")
    func everyPayloadIsValid() throws {
        let codec = EventCodec()
        for s in Fixture.plan.submissions {
            try s.data.validate()
            let bytes = try codec.encodeData(s.data)
            let decoded = try codec.decodeData(bytes, kind: s.type)
            #expect(decoded == s.data, "\(s.type.name) \(s.subject) did not round-trip")
            let source = try #require(s.source, "agency id \(s.agencyId)")
            #expect(s.type.owner == s.agency, "\(s.type.name) submitted by \(s.agency)")
            let event = AccordEvent(id: s.id, source: source, time: s.time, sequence: 1, payload: s.data,
                                    causationId: s.causationId?.uuidString.lowercased(), correlationId: s.correlationId)
            try event.validate()
        }
    }

    @Test("submissions are sorted by time, inside the period, with distinct ids")
    func sortedAndDistinct() {
        let plan = Fixture.plan.submissions
        let config = Fixture.simulation.config
        #expect(plan.count > 20_000)
        #expect(zip(plan, plan.dropFirst()).allSatisfy { $0.time <= $1.time })
        #expect(plan.allSatisfy { $0.time >= config.startTime && $0.time < config.endTime })
        #expect(Set(plan.map(\.id)).count == plan.count)
    }

    @Test("the world hangs together: references point backwards, nothing after a case closes")
    func referentialIntegrity() throws {
        var opened = Set<String>()
        var closed = Set<String>()
        var referred = Set<String>()
        var failures = Set<String>()
        var seenIds = Set<UUID>()
        var contracts = Set<String>()
        var orphans = 0
        for s in Fixture.plan.submissions {
            if let cause = s.causationId { #expect(seenIds.contains(cause), "causation of \(s.type.name) precedes it") }
            seenIds.insert(s.id)
            switch s.data {
            case .commissioning(.contractAwarded(let c)): contracts.insert(c.contractId)
            case .probation(.caseOpened(let c)):
                #expect(!opened.contains(c.caseId))
                opened.insert(c.caseId)
            case .probation(.interventionReferred(let r)):
                #expect(contracts.contains(r.contractId))
                referred.insert(r.referralId)
            case .probation(.complianceFailureRecorded(let f)):
                failures.insert(f.failureId)
                if let related = f.relatedEventId { #expect(seenIds.contains(related)) }
            case .probation(.enforcementActionTaken(let e)):
                #expect(e.failureIds.allSatisfy(failures.contains))
            case .probation(.caseClosed(let c)): closed.insert(c.caseId)
            case .interventions(let e):
                let referralId = Self.referralId(e)
                if !referred.contains(referralId) {
                    orphans += 1
                    #expect(referralId.contains("-U"), "provider event for unknown referral \(referralId)")
                }
            default: break
            }
            if s.type != .provenReoffenceRecorded, s.type.subjectKind == .caseId {
                #expect(opened.contains(s.subject), "\(s.type.name) before the case opened")
                if s.type != .caseClosed { #expect(!closed.contains(s.subject), "\(s.type.name) after the case closed") }
            }
        }
        #expect(orphans == Fixture.plan.summary.expectedFlags[.activityWithoutReferral])
        #expect(orphans > 0)
    }

    @Test("default run: about 2,000 cases, ~20 % high risk, every flag provoked")
    func realisticDefault() {
        let summary = Fixture.plan.summary
        #expect((1_900...2_000).contains(summary.cases))
        var high = 0
        for s in Fixture.plan.submissions {
            if case .probation(.caseOpened(let c)) = s.data, c.riskLevel >= .high { high += 1 }
        }
        let share = Double(high) / Double(max(1, summary.cases))
        #expect((0.14...0.26).contains(share), "high-risk share \(share)")
        for flag in SimulationSummary.provokedFlags {
            #expect((summary.expectedFlags[flag] ?? 0) > 0, "\(flag.rawValue) never provoked")
        }
        #expect(summary.expectedFlags[.contractBelowServiceLevel] == 1)
        // The simulation transfers with case-transferred.v2 (naming the receiving office), never the superseded v1.
        for kind in EventKind.allCases where kind != .contractEnded && kind != .caseTransferred {
            #expect((summary.byKind[kind] ?? 0) > 0, "no \(kind.name)")
        }
        #expect(Set(summary.byAgency.keys).isSuperset(of: [
            "probation:nps-london", "probation:nps-midlands", "commissioner:pcc-london", "commissioner:pcc-west",
            "interventions:ace-payback", "interventions:safe-hours", "interventions:clearpath",
            "interventions:renew-recovery", "interventions:mindset",
        ]))
        print(summary)
    }

    @Test("planning again gives the same plan (planning time is measured by `accord bench`, not asserted)")
    func planningIsRepeatable() {
        let again = Fixture.simulation.run()
        #expect(again.submissions.count == Fixture.plan.submissions.count)
        #expect(again.submissions.map(\.id) == Fixture.plan.submissions.map(\.id))
    }

    @Test("intake JSON: one object, a batch array and NDJSON")
    func intakeJSON() throws {
        let subs = Array(Fixture.plan.submissions.prefix(3))
        let one = try renderer.json(subs[0])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(one)) as? [String: Any])
        #expect(object["type"] as? String == subs[0].type.type)
        #expect(object["time"] as? String == subs[0].time.rfc3339)
        #expect(object["id"] as? String == subs[0].id.uuidString.lowercased())
        #expect(object["data"] is [String: Any])
        let batch = try renderer.batch(subs)
        #expect((try JSONSerialization.jsonObject(with: Data(batch)) as? [Any])?.count == 3)
        let lines = try renderer.ndjson(subs).split(separator: UInt8(ascii: "\n"))
        #expect(lines.count == 3)
        #expect(Array(lines[0]) == one)
    }

    @Test("empty and invalid configurations")
    func configs() throws {
        #expect(try Simulation(config: SimulationConfig(cases: 0)).plan().allSatisfy { $0.type.owner == .commissioner })
        #expect(throws: SimulationConfigError.self) { try Simulation(config: SimulationConfig(cases: -1)) }
        #expect(throws: SimulationConfigError.self) { try Simulation(config: SimulationConfig(days: 0)) }
        #expect(throws: SimulationConfigError.self) { try Simulation(config: SimulationConfig(probationOffices: [])) }
        #expect(throws: SimulationConfigError.self) {
            try Simulation(config: SimulationConfig(probationOffices: [ProbationOffice(id: "Bad Id", areas: ["x"], weight: 1)]))
        }
        #expect(throws: SimulationConfigError.self) {
            try Simulation(config: SimulationConfig(probationOffices: [ProbationOffice(id: "nps-x", areas: ["nowhere"], weight: 1)]))
        }
        let short = try Simulation(config: SimulationConfig(cases: 50, days: 7)).run()
        #expect(short.submissions.allSatisfy { $0.time < SimulationConfig(days: 7).endTime })
    }

    static func referralId(_ e: InterventionsEvent) -> String {
        switch e {
        case .referralAccepted(let d): d.referralId
        case .referralDeclined(let d): d.referralId
        case .interventionStarted(let d): d.referralId
        case .appointmentAttended(let d): d.referralId
        case .appointmentMissed(let d): d.referralId
        case .unpaidWorkHoursLogged(let d): d.referralId
        case .curfewViolationDetected(let d): d.referralId
        case .treatmentSessionRecorded(let d): d.referralId
        case .interventionCompleted(let d): d.referralId
        case .interventionEndedEarly(let d): d.referralId
        }
    }
}
