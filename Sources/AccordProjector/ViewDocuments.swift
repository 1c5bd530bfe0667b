import AccordEvents
import AccordProjection
import AccordStore
import Foundation

/// Renders the stored view rows (case and contract documents) from a projection state,
/// as of the latest event time the state holds.
struct ViewDocuments {
    let state: ProjectionState
    let asOf: Timestamp
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    init(state: ProjectionState, asOf: Timestamp) {
        self.state = state
        self.asOf = asOf
    }

    func caseDocument(_ caseId: String) -> ViewDocument? {
        guard let view = state.caseView(caseId, asOf: asOf), let json = try? Self.encoder.encode(view) else { return nil }
        return ViewDocument(id: caseId, area: view.area, json: [UInt8](json))
    }

    func contractDocument(_ contractId: String) -> ViewDocument? {
        guard let performance = state.contractPerformance(contractId, asOf: asOf),
              let json = try? Self.encoder.encode(performance) else { return nil }
        return ViewDocument(id: contractId, area: performance.terms?.area, json: [UInt8](json))
    }
}
