import AccordEvents

// Canonical JSON of the records the view digest commits to (`schemas/integrity.md` §11).
// Every writer lists its members in sorted order; absent optionals are left out.

extension CanonicalJSONWriter {
    mutating func write(_ r: CaseRecord) {
        beginObject()
        member("area", r.area)
        key("caseId"); string(r.caseId)
        member("closedAt", r.closedAt)
        key("complianceFailures"); beginArray(); for e in r.complianceFailures { write(e) }; endArray()
        key("enforcementActions"); beginArray(); for e in r.enforcementActions { write(e) }; endArray()
        key("eventCount"); int(r.eventCount)
        key("flags"); beginArray(); for f in r.flags { write(f) }; endArray()
        key("interventions"); beginArray(); for l in r.interventions { write(l) }; endArray()
        member("lastEventAt", r.lastEventAt)
        if let order = r.order { key("order"); write(order) }
        member("outcome", r.outcome)
        if let p = r.practitioner { key("practitioner"); write(p) }
        member("probationSource", r.probationSource)
        key("provenReoffences"); beginArray(); for e in r.provenReoffences { write(e) }; endArray()
        key("riskHistory"); beginArray(); for e in r.riskHistory { write(e) }; endArray()
        member("riskLevel", r.riskLevel)
        key("status"); string(r.status.rawValue)
        key("transfers"); beginArray(); for e in r.transfers { write(e) }; endArray()
        endObject()
    }

    mutating func write(_ o: OrderSummary) {
        beginObject()
        key("expectedEndDate"); date(o.expectedEndDate)
        key("openedAt"); timestamp(o.openedAt)
        key("openedBy"); string(o.openedBy)
        key("openingArea"); string(o.openingArea)
        key("orderType"); string(o.orderType.rawValue)
        key("requirements"); beginArray(); for q in o.requirements { write(q) }; endArray()
        key("startDate"); date(o.startDate)
        endObject()
    }

    mutating func write(_ q: Requirement) {
        beginObject()
        switch q {
        case .unpaidWork(let hours):
            key("hours"); double(hours)
            key("kind"); string(q.kind)
        case .curfew(let perDay, .months(let months)):
            key("hoursPerDay"); double(perDay)
            key("kind"); string(q.kind)
            key("months"); int(months)
        case .curfew(let perDay, .until(let end)):
            key("endDate"); date(end)
            key("hoursPerDay"); double(perDay)
            key("kind"); string(q.kind)
        case .drugTreatment, .alcoholTreatment:
            key("kind"); string(q.kind)
        case .accreditedProgramme(let programme):
            key("kind"); string(q.kind)
            key("programme"); string(programme)
        }
        endObject()
    }

    mutating func write(_ p: PractitionerAssignment) {
        beginObject()
        key("allocatedAt"); timestamp(p.allocatedAt)
        key("eventId"); string(p.eventId)
        key("practitionerId"); string(p.practitionerId)
        member("team", p.team)
        endObject()
    }

    mutating func write(_ e: RiskEntry) {
        beginObject()
        key("at"); timestamp(e.at)
        key("eventId"); string(e.eventId)
        member("reason", e.reason)
        key("riskLevel"); string(e.riskLevel.rawValue)
        endObject()
    }

    mutating func write(_ l: InterventionLifecycle) {
        beginObject()
        member("acceptedAt", l.acceptedAt)
        key("appointmentsAttended"); int(l.appointmentsAttended)
        key("appointmentsMissedAcceptable"); int(l.appointmentsMissedAcceptable)
        key("appointmentsMissedUnacceptable"); int(l.appointmentsMissedUnacceptable)
        member("completedAt", l.completedAt)
        member("contractId", l.contractId)
        key("curfewViolations"); beginArray(); for v in l.curfewViolations { write(v) }; endArray()
        member("declineReason", l.declineReason)
        member("declinedAt", l.declinedAt)
        member("dueBy", l.dueBy)
        member("endedEarlyAt", l.endedEarlyAt)
        member("endedEarlyReason", l.endedEarlyReason)
        member("eventIds", strings: l.eventIds)
        member("interventionType", l.interventionType)
        key("missedAppointments"); beginArray(); for m in l.missedAppointments { write(m) }; endArray()
        key("provider"); string(l.provider)
        key("providerId"); string(l.providerId)
        key("referralId"); string(l.referralId)
        member("referredAt", l.referredAt)
        member("referredBy", l.referredBy)
        member("riskAtReferral", l.riskAtReferral)
        member("startedAt", l.startedAt)
        key("status"); string(l.status.rawValue)
        key("treatmentSessions"); int(l.treatmentSessions)
        key("unpaidWorkHoursLogged"); double(l.unpaidWorkHoursLogged)
        member("unpaidWorkHoursRequired", l.unpaidWorkHoursRequired)
        endObject()
    }

    mutating func write(_ m: MissedAppointmentEntry) {
        beginObject()
        member("acceptable", m.acceptable)
        key("appointmentId"); string(m.appointmentId)
        key("at"); timestamp(m.at)
        key("eventId"); string(m.eventId)
        key("reason"); string(m.reason)
        endObject()
    }

    mutating func write(_ v: CurfewViolationEntry) {
        beginObject()
        key("detectedAt"); timestamp(v.detectedAt)
        key("durationMinutes"); int(v.durationMinutes)
        key("eventId"); string(v.eventId)
        key("reportedAt"); timestamp(v.reportedAt)
        key("violationId"); string(v.violationId)
        endObject()
    }

    mutating func write(_ f: ComplianceFailureEntry) {
        beginObject()
        key("at"); timestamp(f.at)
        key("eventId"); string(f.eventId)
        key("failureId"); string(f.failureId)
        key("kind"); string(f.kind.rawValue)
        member("referralId", f.referralId)
        member("relatedEventId", f.relatedEventId)
        endObject()
    }

    mutating func write(_ a: EnforcementActionEntry) {
        beginObject()
        key("action"); string(a.action.rawValue)
        key("at"); timestamp(a.at)
        key("eventId"); string(a.eventId)
        member("failureIds", strings: a.failureIds)
        endObject()
    }

    mutating func write(_ o: ProvenReoffenceEntry) {
        beginObject()
        key("at"); timestamp(o.at)
        key("eventId"); string(o.eventId)
        key("offenceCategory"); string(o.offenceCategory)
        key("offenceDate"); date(o.offenceDate)
        key("provenDate"); date(o.provenDate)
        endObject()
    }

    mutating func write(_ t: TransferEntry) {
        beginObject()
        key("at"); timestamp(t.at)
        key("eventId"); string(t.eventId)
        key("fromArea"); string(t.fromArea)
        member("newPractitionerId", t.newPractitionerId)
        key("toArea"); string(t.toArea)
        member("toProbation", t.toProbation)
        endObject()
    }

    mutating func write(_ f: FlagRecord) {
        beginObject()
        key("causes"); beginArray(); for c in f.causes { write(c) }; endArray()
        member("contractId", f.contractId)
        key("details"); string(f.details)
        key("id"); string(f.id)
        member("inclusive", f.inclusive)
        key("periods"); beginArray(); for p in f.periods { write(p) }; endArray()
        member("referralId", f.referralId)
        member("resolution", f.resolution)
        member("resolutionDetails", f.resolutionDetails)
        member("resolvedAt", f.resolvedAt)
        member("resolvingEventId", f.resolvingEventId)
        key("rule"); string(f.rule.rawValue)
        key("since"); timestamp(f.since)
        key("subject"); string(f.subject)
        member("subjectKind", f.subjectKind)
        endObject()
    }

    mutating func write(_ p: AccountabilityPeriod) {
        beginObject()
        key("accountable"); string(p.accountable)
        key("accountableKind"); string(p.accountableKind.rawValue)
        member("area", p.area)
        key("from"); timestamp(p.from)
        endObject()
    }

    mutating func write(_ r: FlagEventRef) {
        beginObject()
        key("at"); timestamp(r.at)
        key("eventId"); string(r.eventId)
        endObject()
    }

    mutating func write(_ c: ContractRecord) {
        beginObject()
        member("awardEventId", c.awardEventId)
        member("awardedAt", c.awardedAt)
        member("commissionerSource", c.commissionerSource)
        key("contractId"); string(c.contractId)
        member("endReason", c.endReason)
        if let e = c.ended { key("ended"); write(e) }
        member("endedAt", c.endedAt)
        key("flags"); beginArray(); for f in c.flags { write(f) }; endArray()
        member("lastEventAt", c.lastEventAt)
        member("referenced", c.referenced)
        if let t = c.terms { key("terms"); write(t) }
        key("variations"); beginArray(); for v in c.variations { write(v) }; endArray()
        key("versions"); beginArray(); for v in c.versions { write(v) }; endArray()
        endObject()
    }

    mutating func write(_ e: ContractEnding) {
        beginObject()
        key("at"); timestamp(e.at)
        key("eventId"); string(e.eventId)
        key("reason"); string(e.reason)
        endObject()
    }

    mutating func write(_ t: ContractTerms) {
        beginObject()
        key("area"); string(t.area)
        key("commissionerId"); string(t.commissionerId)
        key("interventionType"); string(t.interventionType.rawValue)
        key("maxRiskLevel"); string(t.maxRiskLevel.rawValue)
        key("paymentByResults"); beginObject()
        key("outcomeMetric"); string(t.paymentByResults.outcomeMetric.rawValue)
        key("outcomePaymentShare"); double(t.paymentByResults.outcomePaymentShare)
        endObject()
        key("periodEnd"); date(t.periodEnd)
        key("periodStart"); date(t.periodStart)
        key("price"); beginObject()
        key("amountMinor"); int(t.price.amountMinor)
        key("currency"); string(t.price.currency.rawValue)
        endObject()
        key("providerId"); string(t.providerId)
        key("serviceLevels"); beginObject()
        key("minimumCompletionRate"); double(t.serviceLevels.minimumCompletionRate)
        key("referralResponseDays"); int(t.serviceLevels.referralResponseDays)
        key("startWithinDays"); int(t.serviceLevels.startWithinDays)
        endObject()
        endObject()
    }

    mutating func write(_ v: ContractVersion) {
        beginObject()
        key("at"); timestamp(v.at)
        key("eventId"); string(v.eventId)
        key("terms"); write(v.terms)
        endObject()
    }

    mutating func write(_ v: ContractVariationEntry) {
        beginObject()
        member("applied", v.applied)
        key("at"); timestamp(v.at)
        member("changed", strings: v.changed)
        key("eventId"); string(v.eventId)
        member("reason", v.reason)
        endObject()
    }

    mutating func write(_ s: SourceRecord) {
        beginObject()
        key("flags"); beginArray(); for f in s.flags { write(f) }; endArray()
        key("ranges"); beginArray()
        for r in s.ranges {
            beginObject()
            key("firstAt"); timestamp(r.firstAt)
            key("firstEventId"); string(r.firstEventId)
            key("hi"); int(r.hi)
            key("lo"); int(r.lo)
            endObject()
        }
        endArray()
        key("source"); string(s.source)
        endObject()
    }

    mutating func write(_ a: AreaRecord) {
        beginObject()
        key("area"); string(a.area)
        key("localPriorities"); beginArray()
        for p in a.localPriorities {
            beginObject()
            key("commissionerId"); string(p.commissionerId)
            key("eventId"); string(p.eventId)
            key("priority"); string(p.priority)
            key("setAt"); timestamp(p.setAt)
            endObject()
        }
        endArray()
        endObject()
    }
}
