import Foundation

/// Deterministic, valid sample events of every kind, for tests, demos and load generation.
/// The same arguments always give the same event (including its id); nothing reads the clock.
public enum EventSamples {
    /// The sample probation agency, `urn:accord:probation:nps-london`.
    public static let probationSource = EventSource(checkedKind: .probation, agencyId: "nps-london")
    /// The sample provider, `urn:accord:interventions:ace-payback`.
    public static let interventionsSource = EventSource(checkedKind: .interventions, agencyId: "ace-payback")
    /// The sample commissioner, `urn:accord:commissioner:pcc-west`.
    public static let commissionerSource = EventSource(checkedKind: .commissioner, agencyId: "pcc-west")

    /// Sample area codes used by subjects of `localPrioritySet` and by payloads.
    public static let areas = ["london-north", "london-south", "west-midlands", "yorkshire", "wales"]

    /// The sample source of an agency kind.
    public static func source(for owner: AgencyKind) -> EventSource {
        switch owner {
        case .probation: probationSource
        case .interventions: interventionsSource
        case .commissioner: commissionerSource
        }
    }

    /// A valid subject for the kind: case `X` + six digits of `index` (mod 1,000,000),
    /// contract `CT-` + four digits of `index` (mod 10,000), or one of `areas`.
    public static func subject(for kind: EventKind, index: Int) -> String {
        let i = index.magnitude
        switch kind.subjectKind {
        case .caseId: return "X" + padded(Int(i % 1_000_000), 6)
        case .contractId: return "CT-" + padded(Int(i % 10_000), 4)
        case .area: return areas[Int(i % UInt(areas.count))]
        }
    }

    /// A deterministic valid payload of the kind about `subject`, which must suit
    /// `kind.subjectKind` (see `subject(for:index:)`). `variant` varies the values; `on` supplies dates.
    public static func payload(_ kind: EventKind, subject: String, variant: Int = 0,
                               on date: CalendarDate = EventSamples.defaultDate) -> EventPayload {
        let v = Int(variant.magnitude % 1_000_000)
        let referral = "REF-\(subject)-\(v % 3 + 1)"
        let provider = "ace-payback"
        let later = date.adding(days: 365) ?? date
        let soon = date.adding(days: 14) ?? date
        let earlier = date.adding(days: -30) ?? date
        let risk: RiskLevel = [.low, .medium, .high, .veryHigh][v % 4]
        let type: InterventionType = InterventionType.allCases[v % InterventionType.allCases.count]
        switch kind {
        case .caseOpened:
            return CaseOpened(
                caseId: subject, orderType: OrderType.allCases[v % 3],
                requirements: [
                    .unpaidWork(hours: Double(40 + (v % 27) * 10)),
                    .curfew(hoursPerDay: 12, duration: v % 2 == 0 ? .months(6) : .until(later)),
                    .drugTreatment, .alcoholTreatment,
                    .accreditedProgramme(programme: "Thinking Skills Programme"),
                ],
                startDate: date, expectedEndDate: later, area: areas[v % areas.count], riskLevel: risk).payload
        case .practitionerAllocated:
            return PractitionerAllocated(caseId: subject, practitionerId: "PR-\(100 + v % 50)", team: "north-team-\(v % 5 + 1)").payload
        case .riskReassessed:
            return RiskReassessed(caseId: subject, riskLevel: risk, reason: "Scheduled review after \(v % 12 + 1) months").payload
        case .interventionReferred:
            return InterventionReferred(caseId: subject, referralId: referral, contractId: "CT-\(padded(v % 10_000, 4))",
                                        providerId: provider, interventionType: type, dueBy: soon).payload
        case .complianceFailureRecorded:
            return ComplianceFailureRecorded(
                caseId: subject, failureId: "CF-\(subject)-\(v)", kind: ComplianceFailureKind.allCases[v % 3],
                referralId: v % 2 == 0 ? referral : nil,
                relatedEventId: v % 2 == 0 ? deterministicId("related", subject, Int64(v)) : nil).payload
        case .enforcementActionTaken:
            return EnforcementActionTaken(caseId: subject, action: EnforcementAction.allCases[v % 3],
                                          failureIds: ["CF-\(subject)-\(v)"]).payload
        case .caseTransferred:
            return CaseTransferred(caseId: subject, fromArea: areas[v % areas.count], toArea: areas[(v + 1) % areas.count],
                                   newPractitionerId: v % 2 == 0 ? "PR-\(200 + v % 50)" : nil).payload
        case .caseTransferredV2:
            return CaseTransferred(caseId: subject, fromArea: areas[v % areas.count], toArea: areas[(v + 1) % areas.count],
                                   newPractitionerId: v % 2 == 0 ? "PR-\(200 + v % 50)" : nil,
                                   toProbationId: ["nps-london", "nps-midlands", "nps-yorkshire"][v % 3]).payload
        case .caseClosed:
            return CaseClosed(caseId: subject, outcome: CaseOutcome.allCases[v % 3]).payload
        case .referralAccepted:
            return ReferralAccepted(caseId: subject, referralId: referral, providerId: provider).payload
        case .referralDeclined:
            return ReferralDeclined(caseId: subject, referralId: referral, providerId: provider,
                                    reason: "No capacity in the area this quarter").payload
        case .interventionStarted:
            return InterventionStarted(caseId: subject, referralId: referral, providerId: provider).payload
        case .appointmentAttended:
            return AppointmentAttended(caseId: subject, referralId: referral, providerId: provider, appointmentId: "AP-\(v)").payload
        case .appointmentMissed:
            return AppointmentMissed(caseId: subject, referralId: referral, providerId: provider, appointmentId: "AP-\(v)",
                                     acceptable: v % 2 == 0, reason: v % 2 == 0 ? "Evidenced illness" : "No reason given").payload
        case .unpaidWorkHoursLogged:
            return UnpaidWorkHoursLogged(caseId: subject, referralId: referral, providerId: provider,
                                         hours: Double(v % 16 + 1) / 2, date: date).payload
        case .curfewViolationDetected:
            return CurfewViolationDetected(caseId: subject, referralId: referral, providerId: provider, violationId: "CV-\(v)",
                                           detectedAt: Timestamp(startOf: date).adding(seconds: Int64(79_200 + v % 3600)) ?? Timestamp(startOf: date),
                                           durationMinutes: v % 240 + 1).payload
        case .treatmentSessionRecorded:
            return TreatmentSessionRecorded(caseId: subject, referralId: referral, providerId: provider,
                                            sessionType: ["one-to-one", "group", "drug-test"][v % 3]).payload
        case .interventionCompleted:
            return InterventionCompleted(caseId: subject, referralId: referral, providerId: provider).payload
        case .interventionEndedEarly:
            return InterventionEndedEarly(caseId: subject, referralId: referral, providerId: provider,
                                          reason: "Order revoked by the court").payload
        case .contractAwarded:
            return ContractAwarded(
                contractId: subject, commissionerId: "pcc-west", providerId: provider, interventionType: type,
                area: areas[v % areas.count], periodStart: date, periodEnd: later,
                price: Money(amountMinor: 125_000_000 + v * 100),
                paymentByResults: PaymentByResults(outcomePaymentShare: 0.25, outcomeMetric: v % 2 == 0 ? .completion : .noProvenReoffence),
                serviceLevels: ServiceLevels(referralResponseDays: 5, startWithinDays: 10, minimumCompletionRate: 0.75),
                maxRiskLevel: .high).payload
        case .contractVaried:
            return ContractVaried(contractId: subject, reason: "Demand higher than forecast", periodEnd: later,
                                  price: Money(amountMinor: 150_000_000 + v * 100),
                                  serviceLevels: v % 2 == 0 ? ServiceLevels(referralResponseDays: 3, startWithinDays: 7, minimumCompletionRate: 0.8) : nil,
                                  maxRiskLevel: v % 3 == 0 ? .veryHigh : nil).payload
        case .contractEnded:
            return ContractEnded(contractId: subject, reason: "Contract period expired").payload
        case .localPrioritySet:
            return LocalPrioritySet(area: subject, commissionerId: "pcc-west",
                                    priority: ["domestic-abuse", "knife-crime", "drug-related-reoffending"][v % 3]).payload
        case .provenReoffenceRecorded:
            return ProvenReoffenceRecorded(caseId: subject, offenceDate: earlier, provenDate: date,
                                           offenceCategory: ["theft", "violence-against-the-person", "drug-offences"][v % 3]).payload
        }
    }

    /// A deterministic valid event of the kind, from the kind owner's sample source (or `source`).
    /// The id is derived from kind, subject, sequence and variant; dates in the payload come from `time`.
    public static func event(_ kind: EventKind, subject: String, sequence: Int64, time: Timestamp,
                             variant: Int = 0, source: EventSource? = nil) -> AccordEvent {
        AccordEvent(
            id: deterministicId(kind.type, subject, sequence &* 1_000_003 &+ Int64(variant)),
            source: source ?? self.source(for: kind.owner), time: time, sequence: sequence,
            payload: payload(kind, subject: subject, variant: variant, on: time.utcDate),
            correlationId: "corr-\(subject)")
    }

    /// One valid sample event of every kind in catalogue order, each from its sample source
    /// with sequence numbers counted per source from 1, one minute apart from `start`.
    public static func oneOfEach(start: Timestamp = defaultStart) -> [AccordEvent] {
        var sequences: [AgencyKind: Int64] = [:]
        return EventKind.allCases.enumerated().map { i, kind in
            let seq = (sequences[kind.owner] ?? 0) + 1
            sequences[kind.owner] = seq
            return event(kind, subject: subject(for: kind, index: 123_456 + i), sequence: seq,
                         time: start.adding(seconds: Int64(i) * 60) ?? start, variant: i)
        }
    }

    /// `count` valid events of mixed kinds about `caseCount` cases (and a few contracts and areas),
    /// `secondsApart` apart from `start`, with per-source sequence numbers 1, 2, 3 … without gaps.
    public static func mixed(count: Int, caseCount: Int = 100, start: Timestamp = defaultStart,
                             secondsApart: Int64 = 60) -> [AccordEvent] {
        let kinds = EventKind.allCases
        var sequences: [AgencyKind: Int64] = [:]
        var out: [AccordEvent] = []
        out.reserveCapacity(max(0, count))
        for i in 0..<max(0, count) {
            let kind = kinds[(i &* 7 &+ i / kinds.count) % kinds.count]
            let seq = (sequences[kind.owner] ?? 0) + 1
            sequences[kind.owner] = seq
            let time = start.adding(seconds: Int64(i) * secondsApart) ?? start
            out.append(event(kind, subject: subject(for: kind, index: i % max(1, caseCount)), sequence: seq,
                             time: time, variant: i))
        }
        return out
    }

    /// 2025-03-03, the default date of sample payloads.
    public static let defaultDate = CalendarDate(checkedYear: 2025, month: 3, day: 3)

    /// 2025-03-03T09:00:00Z, the default start of sample streams.
    public static let defaultStart = Timestamp(startOf: CalendarDate(checkedYear: 2025, month: 3, day: 3))
        .adding(seconds: 9 * 3600) ?? Timestamp(startOf: CalendarDate(checkedYear: 2025, month: 3, day: 3))

    /// A name-based UUID (version 8 layout) from the given parts, stable across runs and platforms.
    public static func deterministicId(_ namespace: String, _ name: String, _ number: Int64) -> UUID {
        var h1: UInt64 = 0xcbf2_9ce4_8422_2325
        var h2: UInt64 = 0x8422_2325_cbf2_9ce4
        func mix(_ byte: UInt8) {
            h1 = (h1 ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            h2 = (h2 ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 ^ (h2 >> 29)
        }
        for b in namespace.utf8 { mix(b) }
        mix(0)
        for b in name.utf8 { mix(b) }
        mix(0)
        withUnsafeBytes(of: number.littleEndian) { for b in $0 { mix(b) } }
        var bytes = [UInt8](repeating: 0, count: 16)
        withUnsafeBytes(of: h1.bigEndian) { for (i, b) in $0.enumerated() { bytes[i] = b } }
        withUnsafeBytes(of: h2.bigEndian) { for (i, b) in $0.enumerated() { bytes[8 + i] = b } }
        bytes[6] = (bytes[6] & 0x0f) | 0x80
        bytes[8] = (bytes[8] & 0x3f) | 0x80
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }

    private static func padded(_ value: Int, _ width: Int) -> String {
        var out = ""
        DigitParser.append(value, width: width, to: &out)
        return out
    }
}

extension EventSource {
    /// Creates a source from a constant agency id known to be valid.
    init(checkedKind kind: AgencyKind, agencyId: String) {
        self.kind = kind
        self.agencyId = agencyId
    }
}
