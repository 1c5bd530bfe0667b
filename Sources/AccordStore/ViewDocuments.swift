import AccordEvents
import AccordProjection
import Foundation

/// Renders the stored view rows (case and contract documents) from a projection state at one
/// instant: sorted-key JSON of the case view and of the contract performance. The projector
/// writes them; audits render them the same way to compare.
public struct ViewDocuments: Sendable {
    /// The state rendered.
    public let state: ProjectionState
    /// The instant the rows describe.
    public let asOf: Timestamp
    /// Only events recorded by then, if set.
    public let knownAt: Timestamp?
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    /// Creates a renderer of `state` as of `asOf` (and `knownAt`).
    public init(state: ProjectionState, asOf: Timestamp, knownAt: Timestamp? = nil) {
        self.state = state
        self.asOf = asOf
        self.knownAt = knownAt
    }

    /// The row of one case, as of `asOf` (or `override`).
    public func caseDocument(_ caseId: String, asOf override: Timestamp? = nil) -> ViewDocument? {
        guard let view = state.caseView(caseId, asOf: override ?? asOf, knownAt: knownAt),
              let json = try? Self.encoder.encode(view) else { return nil }
        return ViewDocument(id: caseId, area: view.area, json: [UInt8](json))
    }

    /// The row of one contract, as of `asOf` (or `override`).
    public func contractDocument(_ contractId: String, asOf override: Timestamp? = nil) -> ViewDocument? {
        guard let performance = state.contractPerformance(contractId, asOf: override ?? asOf, knownAt: knownAt),
              let json = try? Self.encoder.encode(performance) else { return nil }
        return ViewDocument(id: contractId, area: performance.terms?.area, json: [UInt8](json))
    }

    /// The contracts the cases' referrals name: their performance changes with the cases.
    public func contracts(referencedBy caseIds: some Sequence<String>) -> Set<String> {
        var contracts = Set<String>()
        for caseId in caseIds {
            guard let view = state.caseView(caseId, asOf: asOf, knownAt: knownAt) else { continue }
            for intervention in view.interventions {
                if let contractId = intervention.contractId { contracts.insert(contractId) }
            }
        }
        return contracts
    }
}
