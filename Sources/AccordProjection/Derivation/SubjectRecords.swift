import AccordEvents

/// A subject of the view: something events are about and the digest has a leaf for.
public enum SubjectKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// A case, by case id.
    case caseId(String)
    /// A contract, by contract id.
    case contract(String)
    /// An area (its local priorities), by area code.
    case area(String)
    /// A source's sequence numbers, by source URN.
    case source(String)

    /// The leaf key text: `case:X123456`, `contract:CT-0001`, `area:london-north`, `source:urn:…`.
    public var description: String {
        switch self {
        case .caseId(let id): "case:\(id)"
        case .contract(let id): "contract:\(id)"
        case .area(let id): "area:\(id)"
        case .source(let urn): "source:\(urn)"
        }
    }

    /// Parses the leaf key text.
    public init?(_ text: String) {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let id = String(text[text.index(after: colon)...])
        guard !id.isEmpty else { return nil }
        switch text[..<colon] {
        case "case": self = .caseId(id)
        case "contract": self = .contract(id)
        case "area": self = .area(id)
        case "source": self = .source(id)
        default: return nil
        }
    }

    /// Orders by key text.
    public static func < (a: SubjectKey, b: SubjectKey) -> Bool { a.description < b.description }
}

/// How a contract was ended by an event.
public struct ContractEnding: Sendable, Hashable {
    /// When.
    public var at: Timestamp
    /// Why.
    public var reason: String
    /// The event.
    public var eventId: String
}

/// A contract's record from everything known: terms over time, how it ended, and its
/// service-level flags. What the digest commits to for the contract.
public struct ContractRecord: Sendable, Hashable {
    /// The contract id.
    public var contractId: String
    /// When awarded.
    public var awardedAt: Timestamp?
    /// The award event.
    public var awardEventId: String?
    /// The awarding commissioner's source URN.
    public var commissionerSource: String?
    /// Current terms.
    public var terms: ContractTerms?
    /// Terms in force over time.
    public var versions: [ContractVersion]
    /// Variations.
    public var variations: [ContractVariationEntry]
    /// The contract-ended event, if any.
    public var ended: ContractEnding?
    /// When it stopped being in force (event or period end).
    public var endedAt: Timestamp?
    /// Why.
    public var endReason: String?
    /// Service-level flags (rule 8).
    public var flags: [FlagRecord]
    /// Latest event about the contract itself.
    public var lastEventAt: Timestamp?
    /// Whether any referral names the contract.
    public var referenced: Bool
}

/// A source's sequence record: delivered runs and gap flags.
public struct SourceRecord: Sendable, Hashable {
    /// The source URN.
    public var source: String
    /// Delivered runs.
    public var ranges: [SequenceRange]
    /// Sequence-gap flags (rule 7).
    public var flags: [FlagRecord]
}

/// An area's record: its local priorities (the latest setting of each).
public struct AreaRecord: Sendable, Hashable {
    /// The area code.
    public var area: String
    /// Latest setting of each priority, by priority code.
    public var localPriorities: [LocalPriorityEntry]
}

extension ContractFold {
    /// The contract's record, with its service-level flags computed from `series`.
    func record(series: ContractSeries, fallbackProvider: String?, referenced: Bool, rules: ProjectionRules) -> ContractRecord {
        ContractRecord(
            contractId: contractId, awardedAt: awardedAt, awardEventId: awardEventId, commissionerSource: commissionerSource,
            terms: currentTerms, versions: versions, variations: variations,
            ended: ended.map { ContractEnding(at: $0.at, reason: $0.reason, eventId: $0.eventId) }, endedAt: endedAt,
            endReason: endReason,
            flags: series.flagRecords(contractId: contractId, contract: versions.isEmpty ? nil : self,
                                      fallbackProvider: fallbackProvider, rules: rules),
            lastEventAt: lastEventAt, referenced: referenced)
    }
}

extension SourceSequence {
    /// The source's record.
    var record: SourceRecord { SourceRecord(source: source.urn, ranges: ranges, flags: flagRecords()) }
}

/// The latest setting of each local priority among an area's facts, by priority code.
public func areaRecordPriorities(_ area: String, facts: [Fact]) -> [LocalPriorityEntry] {
    areaRecord(area, facts: facts).localPriorities
}

/// Folds an area's facts into its record.
func areaRecord(_ area: String, facts: [Fact]) -> AreaRecord {
    var priorities: [String: LocalPriorityEntry] = [:]
    for fact in facts {
        guard case .commissioning(.localPrioritySet(let d)) = fact.payload else { continue }
        priorities[d.priority] = LocalPriorityEntry(priority: d.priority, commissionerId: d.commissionerId,
                                                    setAt: fact.time, eventId: fact.eventId)
    }
    return AreaRecord(area: area, localPriorities: priorities.values.sorted { $0.priority < $1.priority })
}

/// The canonical bytes the digest hashes for a subject's record.
public enum SubjectCanonical {
    /// Canonical JSON of a case record.
    public static func bytes(_ r: CaseRecord) -> [UInt8] {
        var w = CanonicalJSONWriter(capacity: 2048)
        w.write(r)
        return w.bytes
    }

    /// Canonical JSON of a contract record.
    public static func bytes(_ r: ContractRecord) -> [UInt8] {
        var w = CanonicalJSONWriter(capacity: 1024)
        w.write(r)
        return w.bytes
    }

    /// Canonical JSON of a source record.
    public static func bytes(_ r: SourceRecord) -> [UInt8] {
        var w = CanonicalJSONWriter(capacity: 256)
        w.write(r)
        return w.bytes
    }

    /// Canonical JSON of an area record.
    public static func bytes(_ r: AreaRecord) -> [UInt8] {
        var w = CanonicalJSONWriter(capacity: 256)
        w.write(r)
        return w.bytes
    }
}
