import AccordEvents
import AccordProjection
import Synchronization

/// ADAPTER (connects the commissioner service to `AccordProjection`): feeds every event the
/// commissioner service sees into a `ProjectionState` and answers contract alerts from its open
/// `contract-below-service-level` flags, keeping the contracts this commissioner awarded.
/// No projection logic lives here; if the projection's API changes, only this file changes.
public final class ProjectionContractAlertSource: ContractAlertSource {
    private let state: Mutex<ProjectionState>

    /// Creates the adapter over an empty projection with default rules.
    public init() {
        state = Mutex(ProjectionState())
    }

    /// Applies the event to the projection (idempotent by event id).
    public func apply(_ event: AccordEvent, recordedAt: Timestamp) {
        state.withLock { _ = $0.apply(event, recordedAt: recordedAt) }
    }

    /// Applies a batch in one pass of the projection (each case it touches is derived once).
    public func apply(contentsOf events: [AccordEvent], recordedAt: Timestamp) {
        state.withLock { _ = $0.apply(batch: events.map { IncomingEvent($0, recordedAt: recordedAt) }) }
    }

    /// Open `contract-below-service-level` flags at `asOf` on contracts awarded by `commissionerId`.
    public func alerts(commissionerId: String, asOf: Timestamp) throws -> [ContractAlert] {
        state.withLock { state in
            let flags = state.flags(asOf: asOf, filter: FlagFilter(rule: .contractBelowServiceLevel, openOnly: true))
            var alerts: [ContractAlert] = []
            var terms: [String: (commissioner: String, provider: String)?] = [:]
            for flag in flags {
                let contractId = flag.contractId ?? flag.subject
                if terms[contractId] == nil {
                    let performance = state.contractPerformance(contractId, asOf: asOf)
                    terms[contractId] = performance?.terms.map { ($0.commissionerId, $0.providerId) }
                }
                guard let known = terms[contractId] ?? nil, known.commissioner == commissionerId else { continue }
                // Flag ids read `<rule>|<contract>|<service level>|<episode>`.
                let parts = flag.id.split(separator: "|")
                let level = parts.count >= 3 ? String(parts[2]) : nil
                alerts.append(ContractAlert(contractId: contractId, providerId: known.provider, flag: flag.rule.rawValue,
                                            serviceLevel: level, since: flag.since.rfc3339, detail: flag.details))
            }
            return alerts
        }
    }
}
