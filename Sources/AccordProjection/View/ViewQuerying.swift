import AccordEvents
import AccordIntegrity

/// The instant a question is about (`asOf`) and, for "what the view showed then", the knowledge
/// cut-off (`knownAt`: only events recorded by then).
public struct ViewInstant: Sendable, Hashable {
    /// The instant described.
    public var asOf: Timestamp
    /// Only events recorded at or before this instant count, if set.
    public var knownAt: Timestamp?

    /// Creates an instant.
    public init(asOf: Timestamp, knownAt: Timestamp? = nil) {
        self.asOf = asOf
        self.knownAt = knownAt
    }
}

/// Which page of a list to return: at most `limit` items after the opaque `cursor` (from an
/// earlier page's `nextCursor`), or from the start.
public struct PageSpec: Sendable, Hashable {
    /// Largest number of items.
    public var limit: Int
    /// Where the page starts.
    public var cursor: String?

    /// Creates a page request.
    public init(limit: Int = 100, cursor: String? = nil) {
        self.limit = max(1, limit)
        self.cursor = cursor
    }
}

/// One page of a list.
public struct ListPage<T: Sendable>: Sendable {
    /// The items of this page.
    public var items: [T]
    /// How many items the whole list has.
    public var total: Int
    /// Cursor of the next page, if there is one.
    public var nextCursor: String?

    /// Creates a page.
    public init(items: [T], total: Int, nextCursor: String?) {
        self.items = items
        self.total = total
        self.nextCursor = nextCursor
    }

    /// Cuts one page out of a whole list, with an index cursor (`i:<n>`, base64).
    public static func cut(_ all: [T], _ page: PageSpec) throws(InvalidCursor) -> ListPage<T> {
        let start = try IndexCursor.decode(page.cursor)
        let lower = min(start, all.count)
        let upper = min(lower + page.limit, all.count)
        return ListPage(items: Array(all[lower..<upper]), total: all.count,
                        nextCursor: upper < all.count ? IndexCursor.encode(upper) : nil)
    }

    /// The same page with every item transformed.
    public func map<U: Sendable>(_ transform: (T) throws -> U) rethrows -> ListPage<U> {
        ListPage<U>(items: try items.map(transform), total: total, nextCursor: nextCursor)
    }
}

extension ListPage: Encodable where T: Encodable {}

/// A cursor that was not returned by this API.
public struct InvalidCursor: Error, Sendable, CustomStringConvertible {
    /// Creates the error.
    public init() {}

    /// What is wrong.
    public var description: String { "not a cursor this API returned" }
}

/// Cursors of lists cut from a whole list: the index of the next item.
public enum IndexCursor {
    /// The cursor of index `n`.
    public static func encode(_ n: Int) -> String { base64("i:\(n)") }

    /// The index a cursor names (0 for none).
    public static func decode(_ cursor: String?) throws(InvalidCursor) -> Int {
        guard let cursor, !cursor.isEmpty else { return 0 }
        guard let text = unbase64(cursor), text.hasPrefix("i:"), let n = Int(text.dropFirst(2)), n >= 0 else {
            throw InvalidCursor()
        }
        return n
    }
}

/// URL-safe base64 without padding of UTF-8 text.
public func base64(_ text: String) -> String {
    let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    let bytes = Array(text.utf8)
    var out: [UInt8] = []
    var i = 0
    while i < bytes.count {
        let b0 = UInt32(bytes[i])
        let b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
        let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
        let n = b0 << 16 | b1 << 8 | b2
        out.append(table[Int(n >> 18 & 63)])
        out.append(table[Int(n >> 12 & 63)])
        if i + 1 < bytes.count { out.append(table[Int(n >> 6 & 63)]) }
        if i + 2 < bytes.count { out.append(table[Int(n & 63)]) }
        i += 3
    }
    return String(decoding: out, as: UTF8.self)
}

/// The text of URL-safe base64 (padding optional), or nil.
public func unbase64(_ text: String) -> String? {
    var values: [UInt32] = []
    for c in text.utf8 {
        switch c {
        case 65...90: values.append(UInt32(c - 65))
        case 97...122: values.append(UInt32(c - 71))
        case 48...57: values.append(UInt32(c + 4))
        case 45, 43: values.append(62)
        case 95, 47: values.append(63)
        case 61: continue
        default: return nil
        }
    }
    var out: [UInt8] = []
    var i = 0
    while i + 1 < values.count {
        let n = values[i] << 18 | values[i + 1] << 12 | (i + 2 < values.count ? values[i + 2] << 6 : 0)
            | (i + 3 < values.count ? values[i + 3] : 0)
        out.append(UInt8(n >> 16 & 255))
        if i + 2 < values.count { out.append(UInt8(n >> 8 & 255)) }
        if i + 3 < values.count { out.append(UInt8(n & 255)) }
        i += 4
    }
    return String(validating: out, as: UTF8.self)
}

/// A case in a case list.
public struct CaseListItem: Codable, Sendable, Hashable {
    /// The case reference.
    public var caseId: String
    /// Current area.
    public var area: String?
    /// Open or closed.
    public var status: CaseStatus
    /// Current risk level.
    public var riskLevel: RiskLevel?
    /// Open flags about the case.
    public var openFlags: Int

    /// Creates an item.
    public init(caseId: String, area: String?, status: CaseStatus, riskLevel: RiskLevel?, openFlags: Int) {
        self.caseId = caseId
        self.area = area
        self.status = status
        self.riskLevel = riskLevel
        self.openFlags = openFlags
    }

    /// The item of a case view.
    public init(_ view: CaseView) {
        self.init(caseId: view.caseId, area: view.area, status: view.status, riskLevel: view.riskLevel,
                  openFlags: view.openFlags.count)
    }
}

/// The view's digest and how much it covers.
public struct ViewDigestInfo: Codable, Sendable, Hashable {
    /// The Merkle root over every subject's record (64 hex digits).
    public var digest: String
    /// Events in the view.
    public var events: Int

    /// Creates the answer.
    public init(digest: String, events: Int) {
        self.digest = digest
        self.events = events
    }
}

/// The accountability view's questions, each about an instant (`ViewInstant`). Implemented by the
/// stored view (from its indexes where it can, by folding otherwise) and by `ProjectionState`.
public protocol ViewQuerying: Sendable {
    /// Events in the view.
    func totalEvents() async throws -> Int
    /// The latest event time in the view.
    func lastEventTime() async throws -> Timestamp?
    /// One case's whole picture, or nil when it is not in the view.
    func caseView(_ caseId: String, at instant: ViewInstant) async throws -> CaseView?
    /// A case's merged timeline, or nil when the case is not in the view.
    func timeline(_ caseId: String, at instant: ViewInstant) async throws -> [TimelineEntry]?
    /// Cases in the view (optionally in an area), by case id.
    func cases(at instant: ViewInstant, area: String?, page: PageSpec) async throws -> ListPage<CaseListItem>
    /// Flags passing `filter`, by (since, subject, rule, id).
    func flags(at instant: ViewInstant, filter: FlagFilter, page: PageSpec) async throws -> ListPage<Flag>
    /// A contract's performance, or nil.
    func contractPerformance(_ contractId: String, at instant: ViewInstant) async throws -> ContractPerformance?
    /// An area's summary, or nil when the area is not in the view.
    func areaSummary(_ area: String, at instant: ViewInstant) async throws -> AreaSummary?
    /// The view digest.
    func digest(at instant: ViewInstant) async throws -> ViewDigestInfo
}

extension ProjectionState: ViewQuerying {
    public func totalEvents() async throws -> Int { eventCount }
    public func lastEventTime() async throws -> Timestamp? { latestEventTime }

    public func caseView(_ caseId: String, at instant: ViewInstant) async throws -> CaseView? {
        caseView(caseId, asOf: instant.asOf, knownAt: instant.knownAt)
    }

    public func timeline(_ caseId: String, at instant: ViewInstant) async throws -> [TimelineEntry]? {
        let view = folded(asOf: instant.asOf, knownAt: instant.knownAt)
        return view.cases[caseId] == nil ? nil : view.timeline(caseId)
    }

    public func cases(at instant: ViewInstant, area: String?, page: PageSpec) async throws -> ListPage<CaseListItem> {
        let view = folded(asOf: instant.asOf, knownAt: instant.knownAt)
        let items = view.cases.keys.sorted().compactMap { id -> CaseListItem? in
            guard let record = view.cases[id]?.record, area == nil || record.area == area else { return nil }
            return CaseListItem(record.view(asOf: instant.asOf))
        }
        return try ListPage.cut(items, page)
    }

    public func flags(at instant: ViewInstant, filter: FlagFilter, page: PageSpec) async throws -> ListPage<Flag> {
        try ListPage.cut(flags(asOf: instant.asOf, knownAt: instant.knownAt, filter: filter), page)
    }

    public func contractPerformance(_ contractId: String, at instant: ViewInstant) async throws -> ContractPerformance? {
        contractPerformance(contractId, asOf: instant.asOf, knownAt: instant.knownAt)
    }

    public func areaSummary(_ area: String, at instant: ViewInstant) async throws -> AreaSummary? {
        let view = folded(asOf: instant.asOf, knownAt: instant.knownAt)
        return view.areaCodes.contains(area) ? view.areaSummary(area) : nil
    }

    public func digest(at instant: ViewInstant) async throws -> ViewDigestInfo {
        ViewDigestInfo(digest: digest(asOf: instant.asOf, knownAt: instant.knownAt), events: eventCount)
    }
}
