import Foundation

extension EventPayload {
    /// Checks that decoded `data` has the shape of `kind`'s version where one payload type serves
    /// several versions: `case-transferred.v2` requires `toProbationId`, `case-transferred.v1` has none.
    func checkVersion(_ kind: EventKind) throws(EventError) {
        let decoded = self.kind
        guard decoded != kind else { return }
        switch (kind, decoded) {
        case (.caseTransferred, .caseTransferredV2):
            throw EventError(.invalidValue, field: "data.toProbationId",
                             "not a property of \(EventKind.caseTransferred.type); a transfer that names the receiving office is \(EventKind.caseTransferredV2.type)")
        case (.caseTransferredV2, .caseTransferred):
            throw EventError(.missingAttribute, field: "data.toProbationId",
                             "missing required property: the receiving probation office's agency id, e.g. nps-midlands (\(EventKind.caseTransferred.type) carries areas only)")
        default:
            throw EventError(.invalidValue, field: "data", "the data is that of \(decoded.type), not \(kind.type)")
        }
    }
}

/// Which probation office holds the cases of each probation area: area code (`london-north`) to
/// the office's agency id (`nps-london`, as in `urn:accord:probation:nps-london`).
///
/// `EventUpcaster` uses it to read `case-transferred.v1` events, which name only areas, in the
/// meaning of `case-transferred.v2`, which names the receiving office. The JSON form is one object,
/// area to office: `{"london-north": "nps-london", "west-midlands": "nps-midlands"}`.
public struct AreaOffices: Sendable, Hashable, CustomStringConvertible {
    /// Office agency id by area code.
    public let officeByArea: [String: String]

    /// No areas: nothing is upcast.
    public static let none = AreaOffices(checked: [:])

    /// The areas and offices of the simulated partnership (`SimulationConfig.defaultProbationOffices`):
    /// `london-north` and `london-south` to `nps-london`, `west-midlands` to `nps-midlands`. The
    /// projector's and the audit commands' default when no file is given.
    public static let simulatedPartnership = AreaOffices(checked: [
        "london-north": "nps-london", "london-south": "nps-london", "west-midlands": "nps-midlands",
    ])

    /// Creates a map, checking every area is a code and every office an agency id.
    public init(_ officeByArea: [String: String]) throws(AreaOfficesError) {
        for (area, office) in officeByArea.sorted(by: { $0.key < $1.key }) {
            guard Patterns.isCode(area) else {
                throw AreaOfficesError("area \"\(area.prefix(60))\" is not an area code; expected ^[a-z][a-z0-9-]{0,47}$ such as london-north")
            }
            guard Patterns.isAgencyId(office) else {
                throw AreaOfficesError("office of area \(area), \"\(office.prefix(70))\", is not a probation office's agency id; expected ^[a-z0-9][a-z0-9-]{0,62}$ such as nps-london")
            }
        }
        self.officeByArea = officeByArea
    }

    /// Reads the JSON form: one object of area code to office agency id.
    public init(json: [UInt8]) throws(AreaOfficesError) {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(json))
        } catch {
            throw AreaOfficesError("not well-formed JSON: \(error.localizedDescription)")
        }
        guard let object = parsed as? [String: Any] else {
            throw AreaOfficesError("expected a JSON object of area code to probation office id, e.g. {\"london-north\": \"nps-london\"}")
        }
        var map: [String: String] = [:]
        for (area, value) in object {
            guard let office = value as? String else {
                throw AreaOfficesError("office of area \"\(area.prefix(60))\" must be a string (an agency id such as nps-london)")
            }
            map[area] = office
        }
        try self.init(map)
    }

    init(checked officeByArea: [String: String]) {
        self.officeByArea = officeByArea
    }

    /// The office holding the cases of `area`, if the map names it.
    public func office(for area: String) -> String? { officeByArea[area] }

    /// Whether the map names no area.
    public var isEmpty: Bool { officeByArea.isEmpty }

    /// The JSON form with areas sorted: the same map always gives the same bytes.
    public var canonicalJSON: String {
        let pairs = officeByArea.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\"\($0.value)\"" }
        // Areas and offices are checked codes: no character needs escaping.
        return "{" + pairs.joined(separator: ",") + "}"
    }

    /// `area=office` pairs in area order.
    public var description: String {
        officeByArea.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
    }
}

/// A map of areas to offices that cannot be used, with the reason.
public struct AreaOfficesError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong.
    public let message: String

    /// Creates an error.
    public init(_ message: String) { self.message = message }

    /// The message.
    public var description: String { message }
}

/// Reads events of superseded versions in the meaning of the current version, before the
/// projection sees them (schemas/README.md, Versioning). Pure and deterministic: the same
/// upcaster and the same event always give the same result, so a replay, a rebuild or an audit
/// that uses the same upcaster derives the same view.
///
/// Today it has one rule: `case-transferred.v1` → `case-transferred.v2`, taking `toProbationId`
/// from `areaOffices` by the area the case joins (`toArea`). A v1 transfer into an area the map
/// does not name stays v1, without a receiving office. Every other event is returned unchanged,
/// and a v2 transfer keeps the office it names.
public struct EventUpcaster: Sendable, Hashable, CustomStringConvertible {
    /// Which office holds the cases of each area.
    public let areaOffices: AreaOffices

    /// Upcasts nothing.
    public static let none = EventUpcaster(areaOffices: .none)

    /// Creates an upcaster with the given map of areas to offices.
    public init(areaOffices: AreaOffices) {
        self.areaOffices = areaOffices
    }

    /// The event with its payload upcast; its attributes (id, source, time, sequence …) unchanged.
    public func upcast(_ event: AccordEvent) -> AccordEvent {
        guard case .probation(.caseTransferred) = event.payload else { return event }
        var copy = event
        copy.payload = upcast(event.payload)
        return copy
    }

    /// The payload in the meaning of the current version of its event.
    public func upcast(_ payload: EventPayload) -> EventPayload {
        guard case .probation(.caseTransferred(var d)) = payload, d.toProbationId == nil,
              let office = areaOffices.office(for: d.toArea) else { return payload }
        d.toProbationId = office
        return d.payload
    }

    /// Identifies what the upcaster does, for a view to record what it was derived with: `none`,
    /// or `area-offices-` and 16 hex digits of a stable hash (FNV-1a, 64 bits) of the map's canonical JSON.
    public var fingerprint: String {
        guard !areaOffices.isEmpty else { return "none" }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in areaOffices.canonicalJSON.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return "area-offices-" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// `fingerprint` and the map.
    public var description: String {
        areaOffices.isEmpty ? "no upcasting" : "case-transferred.v1 → v2 with areas to offices \(areaOffices)"
    }
}
