import AccordEvents
import AccordProjection
import Foundation

/// The audit report of one replay: the view at one instant from one perspective, with where
/// it came from, the events recorded after the instant that changed its picture, and the
/// integrity of the journal it was built from. Written as `report.json` and `report.html`.
public struct AuditReport: Codable, Sendable, Equatable {
    /// Version of this report format.
    public var reportVersion: Int = 1
    /// Which of the auditor's two questions the report answers, stated first.
    public var perspective: ReportPerspective
    /// The store and journal the report was built from.
    public var generatedFrom: ReportSource
    /// Headline counts.
    public var summary: ReportSummary
    /// The view digest (`ProjectionState.digest(asOf:knownAt:)`, also `/v1/view/digest`).
    public var digest: String
    /// Open flags grouped by accountable agency and rule.
    public var openFlags: [FlagGroup]
    /// Every case in the view.
    public var cases: [CaseLine]
    /// Every contract's terms, performance and payment by results.
    public var contracts: [ContractPerformance]
    /// Every area's summary.
    public var areas: [AreaSummary]
    /// Events that happened by `asOf` but were recorded after it (always computed).
    public var lateRecorded: LateRecordedSection
    /// What is known about the trustworthiness of the journal.
    public var integrity: IntegritySummary
    /// The thresholds used.
    public var rules: ProjectionRules
}

/// The perspective of a report.
public struct ReportPerspective: Codable, Sendable, Equatable {
    /// `as-known-now`, `as-shown` or `as-known-at`.
    public var name: String
    /// A heading such as "What the view showed at … (only events recorded by then)".
    public var headline: String
    /// The query API's perspective sentence.
    public var description: String
    /// The instant the view describes.
    public var asOf: Timestamp
    /// The knowledge cut-off (null: everything recorded so far).
    public var knownAt: Timestamp?
    /// The same view through the query API.
    public var queryParameters: String
}

/// Where a report's view came from.
public struct ReportSource: Codable, Sendable, Equatable {
    /// The live store read (read-only).
    public var storePath: String
    /// The replay store written, if any.
    public var replayStorePath: String?
    /// Journal entries in the live store when read.
    public var journalEntries: Int
    /// The journal's last position when read.
    public var lastPosition: Int64
    /// Journal entries the view was built from (written to the replay store).
    public var entriesInView: Int
    /// When the report was generated (wall clock; metadata only, not part of the view).
    public var generatedAt: Timestamp?
}

/// Headline counts of a report.
public struct ReportSummary: Codable, Sendable, Equatable {
    /// Cases in the view.
    public var cases: Int
    /// Cases open at `asOf`.
    public var openCases: Int
    /// Flags open at `asOf`.
    public var openFlags: Int
    /// Flags raised and resolved by `asOf`.
    public var resolvedFlags: Int
    /// Contracts in the view.
    public var contracts: Int
    /// Areas in the view.
    public var areas: Int
    /// Events that happened by `asOf` but were recorded after it.
    public var lateRecordedEvents: Int
}

/// The open flags of one accountable agency under one rule.
public struct FlagGroup: Codable, Sendable, Equatable {
    /// The accountable agency's source URN.
    public var accountable: String
    /// Its kind.
    public var accountableKind: AgencyKind
    /// The rule breached.
    public var rule: FlagRule
    /// The flags, sorted by since.
    public var flags: [Flag]
}

/// One case in a report's case table.
public struct CaseLine: Codable, Sendable, Equatable {
    /// The case id.
    public var caseId: String
    /// Current area.
    public var area: String?
    /// Open or closed.
    public var status: CaseStatus
    /// Current risk level.
    public var riskLevel: RiskLevel?
    /// Responsible practitioner, if allocated.
    public var practitionerId: String?
    /// Interventions referred or seen.
    public var interventions: Int
    /// Open flags.
    public var openFlags: Int
    /// Events about the case in the view.
    public var events: Int
    /// Time of the latest of them.
    public var lastEventAt: Timestamp?

    init(_ view: CaseView) {
        caseId = view.caseId
        area = view.area
        status = view.status
        riskLevel = view.riskLevel
        practitionerId = view.practitioner?.practitionerId
        interventions = view.interventions.count
        openFlags = view.openFlags.count
        events = view.eventCount
        lastEventAt = view.lastEventAt
    }
}

/// Events dated by `asOf` but recorded after it, and how they change the picture of `asOf`.
public struct LateRecordedSection: Codable, Sendable, Equatable {
    /// The instant: events with time ≤ it and recordedAt > it are listed.
    public var instant: Timestamp
    /// The events, in journal order.
    public var events: [LateEvent]
    /// The other perspective on the same instant this report is compared with.
    public var comparedWith: ReportPerspective
    /// The view digest in that perspective.
    public var comparedDigest: String
    /// Cases whose view differs between the two perspectives.
    public var casesChanged: [String]
    /// Contracts whose performance differs between the two perspectives.
    public var contractsChanged: [String]
    /// Flags (ids) in this report's view that are not in the other, or differ.
    public var flagsOnlyInThisView: [String]
    /// Flags (ids) in the other perspective's view that are not in this one, or differ.
    public var flagsOnlyInComparedView: [String]
}

/// One event recorded after the instant it is about.
public struct LateEvent: Codable, Sendable, Equatable {
    /// Journal position.
    public var position: Int64
    /// CloudEvents id.
    public var id: String
    /// CloudEvents type.
    public var type: String
    /// Case, contract or area id.
    public var subject: String
    /// When it happened.
    public var time: Timestamp
    /// When it was recorded.
    public var recordedAt: Timestamp
    /// Source agency URN.
    public var source: String
    /// Whether it is part of this report's view (true as known now; false as shown at `asOf`).
    public var inThisView: Bool
}

/// A journal entry that did not decode into an event.
public struct UndecodableEntry: Codable, Sendable, Equatable {
    /// Journal position.
    public var position: Int64
    /// The event id the journal gives.
    public var eventId: String
    /// Why it did not decode.
    public var error: String
}

/// Counts of the values of one journal column.
public struct ColumnValueCount: Codable, Sendable, Equatable {
    /// The column.
    public var column: String
    /// The value (as text; null for NULL).
    public var value: String?
    /// How many rows have it.
    public var count: Int
}

/// Rows of one table.
public struct TableCount: Codable, Sendable, Equatable {
    /// The table.
    public var table: String
    /// Its rows.
    public var rows: Int
}

/// The outcome of running the journal verifier, when one is available.
public struct VerificationOutcome: Codable, Sendable, Equatable {
    /// Whether the verifier found the journal intact.
    public var passed: Bool
    /// One-line summary.
    public var summary: String
    /// Problems found.
    public var problems: [String]

    /// Creates an outcome.
    public init(passed: Bool, summary: String, problems: [String]) {
        self.passed = passed
        self.summary = summary
        self.problems = problems
    }
}

/// What a report can say about the journal's integrity.
public struct IntegritySummary: Codable, Sendable, Equatable {
    /// Journal entries.
    public var journalEntries: Int
    /// Last journal position.
    public var lastPosition: Int64
    /// Entries that did not decode (the view left them out).
    public var undecodable: [UndecodableEntry]
    /// Dead-lettered records in the store.
    public var deadLetters: Int?
    /// Counts of verification-related journal columns (e.g. verified/provisional), when the store has them.
    public var verificationColumns: [ColumnValueCount]
    /// Integrity-related tables (checkpoints, …) and their sizes, when the store has them.
    public var integrityTables: [TableCount]
    /// The journal verifier's result, when it was run.
    public var verification: VerificationOutcome?
    /// Notes for the reader.
    public var notes: [String]
}
