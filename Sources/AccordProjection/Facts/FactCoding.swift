import AccordEvents
import Foundation

/// The compact binary form of facts in the stored view state (`BinaryWriter`). Each payload
/// starts with a one-byte tag; the tags are part of the state format (`FactCoding.version`),
/// so changing one means bumping the version, which makes the projector rebuild its view
/// from the journal.
public enum FactCoding {
    /// Version of the stored state format. Stored with the view; a mismatch triggers a rebuild.
    public static let version = 2

    private static let kinds: [AgencyKind] = [.probation, .interventions, .commissioner]

    /// Appends one fact of `subject` (the subject's id is not repeated when the payload names it).
    public static func write(_ fact: Fact, subject: String, into w: inout BinaryWriter) {
        w.timestamp(fact.key.time)
        w.byte(UInt8(kinds.firstIndex(of: fact.key.source.kind) ?? 0))
        w.string(fact.key.source.agencyId)
        w.int(fact.key.sequence)
        w.uuid(fact.key.id)
        // Recorded instant as a difference from the event time (usually small).
        w.int(fact.recordedAt.secondsSinceEpoch &- fact.key.time.secondsSinceEpoch)
        w.varint(UInt64(fact.recordedAt.nanoseconds))
        var p = PayloadWriter(subject: subject, w: w)
        p.write(fact.payload)
        w = p.w
    }

    /// Reads one fact of `subject`.
    public static func read(_ r: inout BinaryReader, subject: String) throws(BinaryDecodingError) -> Fact {
        let time = try r.timestamp()
        let kindIndex = Int(try r.byte())
        guard kindIndex < kinds.count else { throw BinaryDecodingError("unknown agency kind \(kindIndex)") }
        let agencyId = try r.string()
        guard let source = EventSource(kind: kinds[kindIndex], agencyId: agencyId) else {
            throw BinaryDecodingError("invalid agency id '\(agencyId.prefix(40))'")
        }
        let sequence = try r.int64()
        let id = try r.uuid()
        let delta = try r.int64()
        let nanos = try r.varint()
        guard nanos < 1_000_000_000, let recordedAt = Timestamp(secondsSinceEpoch: time.secondsSinceEpoch &+ delta,
                                                                nanoseconds: Int32(nanos)) else {
            throw BinaryDecodingError("recorded instant out of range")
        }
        var p = PayloadReader(subject: subject, r: r)
        let payload = try p.read()
        r = p.r
        return Fact(key: EventKey(time: time, source: source, sequence: sequence, id: id), recordedAt: recordedAt,
                    payload: payload)
    }

    /// The bytes of one fact of `subject`.
    public static func bytes(_ fact: Fact, subject: String) -> [UInt8] {
        var w = BinaryWriter(capacity: 96)
        write(fact, subject: subject, into: &w)
        return w.bytes
    }

    /// Appends a list of facts (count, then each).
    public static func write(_ list: FactList, subject: String, into w: inout BinaryWriter) {
        w.varint(UInt64(list.count))
        for fact in list.facts { write(fact, subject: subject, into: &w) }
    }

    /// Reads a list of facts written by `write(_:subject:into:)`.
    public static func readList(_ r: inout BinaryReader, subject: String) throws(BinaryDecodingError) -> FactList {
        let count = Int(truncatingIfNeeded: try r.varint())
        guard count >= 0, count < 10_000_000 else { throw BinaryDecodingError("implausible fact count \(count)") }
        var facts: [Fact] = []
        facts.reserveCapacity(count)
        for _ in 0..<count { facts.append(try read(&r, subject: subject)) }
        return FactList(facts)
    }

    // MARK: payloads

    enum Tag: UInt8 {
        case caseOpened = 1, practitionerAllocated, riskReassessed, interventionReferred, complianceFailureRecorded
        case enforcementActionTaken, caseTransferred, caseClosed
        case referralAccepted = 20, referralDeclined, interventionStarted, appointmentAttended, appointmentMissed
        case unpaidWorkHoursLogged, curfewViolationDetected, treatmentSessionRecorded, interventionCompleted
        case interventionEndedEarly
        case contractAwarded = 40, contractVaried, contractEnded, localPrioritySet
        case provenReoffenceRecorded = 60
    }

    static func write(_ requirement: Requirement, into w: inout BinaryWriter) {
        switch requirement {
        case .unpaidWork(let hours):
            w.byte(1)
            w.double(hours)
        case .curfew(let perDay, .months(let months)):
            w.byte(2)
            w.double(perDay)
            w.int(months)
        case .curfew(let perDay, .until(let end)):
            w.byte(3)
            w.double(perDay)
            w.date(end)
        case .drugTreatment:
            w.byte(4)
        case .alcoholTreatment:
            w.byte(5)
        case .accreditedProgramme(let programme):
            w.byte(6)
            w.string(programme)
        }
    }

    static func readRequirement(_ r: inout BinaryReader) throws(BinaryDecodingError) -> Requirement {
        switch try r.byte() {
        case 1: return .unpaidWork(hours: try r.double())
        case 2: return .curfew(hoursPerDay: try r.double(), duration: .months(try r.int()))
        case 3: return .curfew(hoursPerDay: try r.double(), duration: .until(try r.date()))
        case 4: return .drugTreatment
        case 5: return .alcoholTreatment
        case 6: return .accreditedProgramme(programme: try r.string())
        case let other: throw BinaryDecodingError("unknown requirement tag \(other)")
        }
    }

    static func write(_ money: Money, into w: inout BinaryWriter) {
        w.int(money.amountMinor)
        w.code(money.currency)
    }

    static func readMoney(_ r: inout BinaryReader) throws(BinaryDecodingError) -> Money {
        Money(amountMinor: try r.int(), currency: try r.code(Currency.self))
    }

    static func write(_ terms: PaymentByResults, into w: inout BinaryWriter) {
        w.double(terms.outcomePaymentShare)
        w.code(terms.outcomeMetric)
    }

    static func readPaymentByResults(_ r: inout BinaryReader) throws(BinaryDecodingError) -> PaymentByResults {
        PaymentByResults(outcomePaymentShare: try r.double(), outcomeMetric: try r.code(OutcomeMetric.self))
    }

    static func write(_ levels: ServiceLevels, into w: inout BinaryWriter) {
        w.int(levels.referralResponseDays)
        w.int(levels.startWithinDays)
        w.double(levels.minimumCompletionRate)
    }

    static func readServiceLevels(_ r: inout BinaryReader) throws(BinaryDecodingError) -> ServiceLevels {
        ServiceLevels(referralResponseDays: try r.int(), startWithinDays: try r.int(), minimumCompletionRate: try r.double())
    }
}

/// Writes payloads for `FactCoding`, leaving out the subject id a payload repeats.
struct PayloadWriter {
    let subject: String
    var w: BinaryWriter

    /// The subject id: one 0 byte when it is the subject's own, else 1 and the text.
    mutating func subjectField(_ id: String) {
        if id == subject {
            w.byte(0)
        } else {
            w.byte(1)
            w.string(id)
        }
    }

    mutating func write(_ payload: EventPayload) {
        switch payload {
        case .probation(let p):
            switch p {
            case .caseOpened(let d):
                w.byte(FactCoding.Tag.caseOpened.rawValue)
                subjectField(d.caseId)
                w.code(d.orderType)
                w.varint(UInt64(d.requirements.count))
                for requirement in d.requirements { FactCoding.write(requirement, into: &w) }
                w.date(d.startDate)
                w.date(d.expectedEndDate)
                w.string(d.area)
                w.code(d.riskLevel)
            case .practitionerAllocated(let d):
                w.byte(FactCoding.Tag.practitionerAllocated.rawValue)
                subjectField(d.caseId)
                w.string(d.practitionerId)
                w.string(d.team)
            case .riskReassessed(let d):
                w.byte(FactCoding.Tag.riskReassessed.rawValue)
                subjectField(d.caseId)
                w.code(d.riskLevel)
                w.string(d.reason)
            case .interventionReferred(let d):
                w.byte(FactCoding.Tag.interventionReferred.rawValue)
                subjectField(d.caseId)
                w.string(d.referralId)
                w.string(d.contractId)
                w.string(d.providerId)
                w.code(d.interventionType)
                w.date(d.dueBy)
            case .complianceFailureRecorded(let d):
                w.byte(FactCoding.Tag.complianceFailureRecorded.rawValue)
                subjectField(d.caseId)
                w.string(d.failureId)
                w.code(d.kind)
                w.string(d.referralId)
                w.uuid(d.relatedEventId)
            case .enforcementActionTaken(let d):
                w.byte(FactCoding.Tag.enforcementActionTaken.rawValue)
                subjectField(d.caseId)
                w.code(d.action)
                w.varint(UInt64(d.failureIds.count))
                for id in d.failureIds { w.string(id) }
            case .caseTransferred(let d):
                w.byte(FactCoding.Tag.caseTransferred.rawValue)
                subjectField(d.caseId)
                w.string(d.fromArea)
                w.string(d.toArea)
                w.string(d.newPractitionerId)
                w.string(d.toProbationId)
            case .caseClosed(let d):
                w.byte(FactCoding.Tag.caseClosed.rawValue)
                subjectField(d.caseId)
                w.code(d.outcome)
            }
        case .interventions(let i):
            switch i {
            case .referralAccepted(let d):
                provider(.referralAccepted, d.caseId, d.referralId, d.providerId)
            case .referralDeclined(let d):
                provider(.referralDeclined, d.caseId, d.referralId, d.providerId)
                w.string(d.reason)
            case .interventionStarted(let d):
                provider(.interventionStarted, d.caseId, d.referralId, d.providerId)
            case .appointmentAttended(let d):
                provider(.appointmentAttended, d.caseId, d.referralId, d.providerId)
                w.string(d.appointmentId)
            case .appointmentMissed(let d):
                provider(.appointmentMissed, d.caseId, d.referralId, d.providerId)
                w.string(d.appointmentId)
                w.bool(d.acceptable)
                w.string(d.reason)
            case .unpaidWorkHoursLogged(let d):
                provider(.unpaidWorkHoursLogged, d.caseId, d.referralId, d.providerId)
                w.double(d.hours)
                w.date(d.date)
            case .curfewViolationDetected(let d):
                provider(.curfewViolationDetected, d.caseId, d.referralId, d.providerId)
                w.string(d.violationId)
                w.timestamp(d.detectedAt)
                w.int(d.durationMinutes)
            case .treatmentSessionRecorded(let d):
                provider(.treatmentSessionRecorded, d.caseId, d.referralId, d.providerId)
                w.string(d.sessionType)
            case .interventionCompleted(let d):
                provider(.interventionCompleted, d.caseId, d.referralId, d.providerId)
            case .interventionEndedEarly(let d):
                provider(.interventionEndedEarly, d.caseId, d.referralId, d.providerId)
                w.string(d.reason)
            }
        case .commissioning(let c):
            switch c {
            case .contractAwarded(let d):
                w.byte(FactCoding.Tag.contractAwarded.rawValue)
                subjectField(d.contractId)
                w.string(d.commissionerId)
                w.string(d.providerId)
                w.code(d.interventionType)
                w.string(d.area)
                w.date(d.periodStart)
                w.date(d.periodEnd)
                FactCoding.write(d.price, into: &w)
                FactCoding.write(d.paymentByResults, into: &w)
                FactCoding.write(d.serviceLevels, into: &w)
                w.code(d.maxRiskLevel)
            case .contractVaried(let d):
                w.byte(FactCoding.Tag.contractVaried.rawValue)
                subjectField(d.contractId)
                w.string(d.reason)
                w.date(d.periodEnd)
                w.bool(d.price != nil)
                if let price = d.price { FactCoding.write(price, into: &w) }
                w.bool(d.paymentByResults != nil)
                if let terms = d.paymentByResults { FactCoding.write(terms, into: &w) }
                w.bool(d.serviceLevels != nil)
                if let levels = d.serviceLevels { FactCoding.write(levels, into: &w) }
                w.code(d.maxRiskLevel)
            case .contractEnded(let d):
                w.byte(FactCoding.Tag.contractEnded.rawValue)
                subjectField(d.contractId)
                w.string(d.reason)
            case .localPrioritySet(let d):
                w.byte(FactCoding.Tag.localPrioritySet.rawValue)
                subjectField(d.area)
                w.string(d.commissionerId)
                w.string(d.priority)
            }
        case .policeOutcome(.provenReoffenceRecorded(let d)):
            w.byte(FactCoding.Tag.provenReoffenceRecorded.rawValue)
            subjectField(d.caseId)
            w.date(d.offenceDate)
            w.date(d.provenDate)
            w.string(d.offenceCategory)
        }
    }

    private mutating func provider(_ tag: FactCoding.Tag, _ caseId: String, _ referralId: String, _ providerId: String) {
        w.byte(tag.rawValue)
        subjectField(caseId)
        w.string(referralId)
        w.string(providerId)
    }
}

/// Reads payloads written by `PayloadWriter`.
struct PayloadReader {
    let subject: String
    var r: BinaryReader

    mutating func subjectField() throws(BinaryDecodingError) -> String {
        try r.byte() == 0 ? subject : try r.string()
    }

    mutating func read() throws(BinaryDecodingError) -> EventPayload {
        let raw = try r.byte()
        guard let tag = FactCoding.Tag(rawValue: raw) else { throw BinaryDecodingError("unknown payload tag \(raw)") }
        switch tag {
        case .caseOpened:
            let caseId = try subjectField()
            let order = try r.code(OrderType.self)
            let count = Int(truncatingIfNeeded: try r.varint())
            guard count >= 0, count <= 1_000 else { throw BinaryDecodingError("implausible requirement count \(count)") }
            var requirements: [Requirement] = []
            for _ in 0..<count { requirements.append(try FactCoding.readRequirement(&r)) }
            return CaseOpened(caseId: caseId, orderType: order, requirements: requirements, startDate: try r.date(),
                              expectedEndDate: try r.date(), area: try r.string(), riskLevel: try r.code()).payload
        case .practitionerAllocated:
            return PractitionerAllocated(caseId: try subjectField(), practitionerId: try r.string(), team: try r.string()).payload
        case .riskReassessed:
            return RiskReassessed(caseId: try subjectField(), riskLevel: try r.code(), reason: try r.string()).payload
        case .interventionReferred:
            return InterventionReferred(caseId: try subjectField(), referralId: try r.string(), contractId: try r.string(),
                                        providerId: try r.string(), interventionType: try r.code(), dueBy: try r.date()).payload
        case .complianceFailureRecorded:
            return ComplianceFailureRecorded(caseId: try subjectField(), failureId: try r.string(), kind: try r.code(),
                                             referralId: try r.optionalString(), relatedEventId: try r.optionalUUID()).payload
        case .enforcementActionTaken:
            let caseId = try subjectField()
            let action = try r.code(EnforcementAction.self)
            let count = Int(truncatingIfNeeded: try r.varint())
            guard count >= 0, count <= 1_000 else { throw BinaryDecodingError("implausible failure id count \(count)") }
            var ids: [String] = []
            for _ in 0..<count { ids.append(try r.string()) }
            return EnforcementActionTaken(caseId: caseId, action: action, failureIds: ids).payload
        case .caseTransferred:
            return CaseTransferred(caseId: try subjectField(), fromArea: try r.string(), toArea: try r.string(),
                                   newPractitionerId: try r.optionalString(), toProbationId: try r.optionalString()).payload
        case .caseClosed:
            return CaseClosed(caseId: try subjectField(), outcome: try r.code()).payload
        case .referralAccepted:
            return ReferralAccepted(caseId: try subjectField(), referralId: try r.string(), providerId: try r.string()).payload
        case .referralDeclined:
            return ReferralDeclined(caseId: try subjectField(), referralId: try r.string(), providerId: try r.string(),
                                    reason: try r.string()).payload
        case .interventionStarted:
            return InterventionStarted(caseId: try subjectField(), referralId: try r.string(), providerId: try r.string()).payload
        case .appointmentAttended:
            return AppointmentAttended(caseId: try subjectField(), referralId: try r.string(), providerId: try r.string(),
                                       appointmentId: try r.string()).payload
        case .appointmentMissed:
            return AppointmentMissed(caseId: try subjectField(), referralId: try r.string(), providerId: try r.string(),
                                     appointmentId: try r.string(), acceptable: try r.bool(), reason: try r.string()).payload
        case .unpaidWorkHoursLogged:
            return UnpaidWorkHoursLogged(caseId: try subjectField(), referralId: try r.string(), providerId: try r.string(),
                                         hours: try r.double(), date: try r.date()).payload
        case .curfewViolationDetected:
            return CurfewViolationDetected(caseId: try subjectField(), referralId: try r.string(), providerId: try r.string(),
                                           violationId: try r.string(), detectedAt: try r.timestamp(),
                                           durationMinutes: try r.int()).payload
        case .treatmentSessionRecorded:
            return TreatmentSessionRecorded(caseId: try subjectField(), referralId: try r.string(), providerId: try r.string(),
                                            sessionType: try r.string()).payload
        case .interventionCompleted:
            return InterventionCompleted(caseId: try subjectField(), referralId: try r.string(), providerId: try r.string()).payload
        case .interventionEndedEarly:
            return InterventionEndedEarly(caseId: try subjectField(), referralId: try r.string(), providerId: try r.string(),
                                          reason: try r.string()).payload
        case .contractAwarded:
            return ContractAwarded(contractId: try subjectField(), commissionerId: try r.string(), providerId: try r.string(),
                                   interventionType: try r.code(), area: try r.string(), periodStart: try r.date(),
                                   periodEnd: try r.date(), price: try FactCoding.readMoney(&r),
                                   paymentByResults: try FactCoding.readPaymentByResults(&r), serviceLevels: try FactCoding.readServiceLevels(&r),
                                   maxRiskLevel: try r.code()).payload
        case .contractVaried:
            let contractId = try subjectField()
            let reason = try r.optionalString()
            let periodEnd = try r.optionalDate()
            let price = try r.bool() ? try FactCoding.readMoney(&r) : nil
            let terms = try r.bool() ? try FactCoding.readPaymentByResults(&r) : nil
            let levels = try r.bool() ? try FactCoding.readServiceLevels(&r) : nil
            let maxRisk = try r.optionalCode(RiskLevel.self)
            return ContractVaried(contractId: contractId, reason: reason, periodEnd: periodEnd, price: price,
                                  paymentByResults: terms, serviceLevels: levels, maxRiskLevel: maxRisk).payload
        case .contractEnded:
            return ContractEnded(contractId: try subjectField(), reason: try r.string()).payload
        case .localPrioritySet:
            return LocalPrioritySet(area: try subjectField(), commissionerId: try r.string(), priority: try r.string()).payload
        case .provenReoffenceRecorded:
            return ProvenReoffenceRecorded(caseId: try subjectField(), offenceDate: try r.date(), provenDate: try r.date(),
                                           offenceCategory: try r.string()).payload
        }
    }
}
