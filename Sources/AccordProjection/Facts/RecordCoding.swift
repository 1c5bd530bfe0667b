import AccordEvents

extension Timestamp {
    /// Nanoseconds since the Unix epoch, clamped to the range of `Int64` (years 1678–2262):
    /// the sortable form stored in index columns.
    public var nanosecondsSinceEpoch: Int64 {
        let (product, overflow) = secondsSinceEpoch.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return secondsSinceEpoch < 0 ? Int64.min : Int64.max }
        let (sum, overflow2) = product.addingReportingOverflow(Int64(nanoseconds))
        return overflow2 ? Int64.max : sum
    }

    /// The instant of a nanosecond count (nil outside the representable years).
    public init?(nanosecondsSinceEpoch n: Int64) {
        let seconds = n >= 0 ? n / 1_000_000_000 : (n - 999_999_999) / 1_000_000_000
        let nanos = n - seconds * 1_000_000_000
        self.init(secondsSinceEpoch: seconds, nanoseconds: Int32(nanos))
    }
}

/// Binary forms of the derived rows the store indexes (flags, referral rows).
public enum RecordCoding {
    /// Encodes a flag record.
    public static func encode(_ f: FlagRecord) -> [UInt8] {
        var w = BinaryWriter(capacity: 256)
        w.string(f.id)
        w.code(f.rule)
        w.string(f.subject)
        w.code(f.subjectKind)
        w.string(f.referralId)
        w.string(f.contractId)
        w.timestamp(f.since)
        w.bool(f.inclusive)
        w.timestamp(f.resolvedAt)
        w.code(f.resolution)
        w.varint(UInt64(f.periods.count))
        for p in f.periods {
            w.timestamp(p.from)
            w.string(p.accountable)
            w.code(p.accountableKind)
            w.string(p.area)
        }
        w.varint(UInt64(f.causes.count))
        for c in f.causes {
            w.string(c.eventId)
            w.timestamp(c.at)
        }
        w.string(f.resolvingEventId)
        w.string(f.details)
        w.string(f.resolutionDetails)
        return w.bytes
    }

    /// Decodes a flag record.
    public static func decodeFlag(_ bytes: [UInt8]) throws(BinaryDecodingError) -> FlagRecord {
        var r = BinaryReader(bytes)
        let id = try r.string()
        let rule = try r.code(FlagRule.self)
        let subject = try r.string()
        let subjectKind = try r.optionalCode(SubjectKind.self)
        let referralId = try r.optionalString()
        let contractId = try r.optionalString()
        let since = try r.timestamp()
        let inclusive = try r.bool()
        let resolvedAt = try r.optionalTimestamp()
        let resolution = try r.optionalCode(FlagResolution.self)
        let periodCount = Int(truncatingIfNeeded: try r.varint())
        guard (1...100_000).contains(periodCount) else { throw BinaryDecodingError("implausible period count \(periodCount)") }
        var periods: [AccountabilityPeriod] = []
        for _ in 0..<periodCount {
            periods.append(AccountabilityPeriod(from: try r.timestamp(), accountable: try r.string(),
                                                accountableKind: try r.code(), area: try r.optionalString()))
        }
        let causeCount = Int(truncatingIfNeeded: try r.varint())
        guard (0...100_000).contains(causeCount) else { throw BinaryDecodingError("implausible cause count \(causeCount)") }
        var causes: [FlagEventRef] = []
        for _ in 0..<causeCount { causes.append(FlagEventRef(eventId: try r.string(), at: try r.timestamp())) }
        return FlagRecord(id: id, rule: rule, subject: subject, subjectKind: subjectKind, referralId: referralId,
                          contractId: contractId, since: since, inclusive: inclusive, resolvedAt: resolvedAt,
                          resolution: resolution, periods: periods, causes: causes,
                          resolvingEventId: try r.optionalString(), details: try r.string(),
                          resolutionDetails: try r.optionalString())
    }

    /// Encodes a referral row.
    public static func encode(_ row: ReferralRow) -> [UInt8] {
        var w = BinaryWriter(capacity: 160)
        w.string(row.caseId)
        w.string(row.referralId)
        w.string(row.contractId)
        w.string(row.providerId)
        w.timestamp(row.referredAt)
        w.string(row.referralEventId)
        w.timestamp(row.responseDeadline)
        w.timestamp(row.startDeadline)
        w.bool(row.answered != nil)
        if let a = row.answered {
            w.string(a.eventId)
            w.timestamp(a.at)
        }
        w.timestamp(row.acceptedAt)
        w.timestamp(row.declinedAt)
        w.timestamp(row.startedAt)
        w.bool(row.outcome != nil)
        if let o = row.outcome {
            w.timestamp(o.at)
            w.bool(o.completed)
            w.string(o.eventId)
        }
        w.varint(UInt64(row.reoffences.count))
        for m in row.reoffences {
            w.date(m.offenceDate)
            w.timestamp(m.at)
        }
        return w.bytes
    }

    /// Decodes a referral row.
    public static func decodeReferral(_ bytes: [UInt8]) throws(BinaryDecodingError) -> ReferralRow {
        var r = BinaryReader(bytes)
        let caseId = try r.string()
        let referralId = try r.string()
        let contractId = try r.string()
        let providerId = try r.string()
        let referredAt = try r.timestamp()
        let referralEventId = try r.string()
        let responseDeadline = try r.optionalTimestamp()
        let startDeadline = try r.optionalTimestamp()
        let answered = try r.bool() ? FlagEventRef(eventId: try r.string(), at: try r.timestamp()) : nil
        let acceptedAt = try r.optionalTimestamp()
        let declinedAt = try r.optionalTimestamp()
        let startedAt = try r.optionalTimestamp()
        let outcome = try r.bool()
            ? ReferralOutcome(at: try r.timestamp(), completed: try r.bool(), eventId: try r.string()) : nil
        let count = Int(truncatingIfNeeded: try r.varint())
        guard (0...100_000).contains(count) else { throw BinaryDecodingError("implausible reoffence count \(count)") }
        var marks: [ReoffenceMark] = []
        for _ in 0..<count { marks.append(ReoffenceMark(offenceDate: try r.date(), at: try r.timestamp())) }
        return ReferralRow(caseId: caseId, referralId: referralId, contractId: contractId, providerId: providerId,
                           referredAt: referredAt, referralEventId: referralEventId, responseDeadline: responseDeadline,
                           startDeadline: startDeadline, answered: answered, acceptedAt: acceptedAt, declinedAt: declinedAt,
                           startedAt: startedAt, outcome: outcome, reoffences: marks)
    }
}

extension FlagRecord {
    /// The instant from which a view shows the flag, as a nanosecond count: `since` itself when
    /// inclusive, one nanosecond later when the flag exists only after `since`.
    public var opensNanoseconds: Int64 {
        let n = since.nanosecondsSinceEpoch
        return inclusive || n == Int64.max ? n : n + 1
    }

    /// The last accountability period (who is accountable once every transfer is known).
    public var currentPeriod: AccountabilityPeriod { periods[periods.count - 1] }
}
