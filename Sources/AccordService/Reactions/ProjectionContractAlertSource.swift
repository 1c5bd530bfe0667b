import AccordEvents
import AccordProjection

/// ADAPTER (connects the commissioner service to `AccordProjection`): feeds every event the
/// commissioner service sees into the accountability view (kept in a store file of its own) and
/// answers contract alerts from its open `contract-below-service-level` flags, keeping the
/// contracts this commissioner awarded. No projection logic lives here.
public final class ProjectionContractAlertSource: ContractAlertSource {
    private let view: ReactionView

    /// Creates the adapter over an empty view with the given rules, kept in a store file at
    /// `storePath` (any file there is replaced), or in a temporary directory when nil.
    public init(rules: ProjectionRules = .defaults, storePath: String? = nil) throws {
        view = try ReactionView(rules: rules, storePath: storePath)
    }

    /// Applies events in one pass of the projection (idempotent by event id).
    public func apply(_ events: [IncomingEvent]) throws {
        try view.apply(events)
    }

    /// Open `contract-below-service-level` flags at `asOf` on contracts awarded by `commissionerId`.
    public func alerts(commissionerId: String, asOf: Timestamp) throws -> [ContractAlert] {
        try view.read { snapshot in
            let flags = try snapshot.flagRecords(rule: .contractBelowServiceLevel, unresolvedAt: asOf)
                .compactMap { $0.flag(asOf: asOf) }.filter(\.open).sorted(by: Flag.precedes)
            var alerts: [ContractAlert] = []
            var terms: [String: (commissioner: String, provider: String)?] = [:]
            for flag in flags {
                let contractId = flag.contractId ?? flag.subject
                if terms[contractId] == nil {
                    let fold = try snapshot.facts.contractFacts(contractId)
                        .map { ContractFold(contractId: contractId, facts: $0.visible(asOf: asOf, knownAt: nil)) }
                    let awarded = fold.flatMap { f in f.awardedAt.map { $0 <= asOf } ?? false ? f : nil }
                    terms[contractId] = awarded?.terms(at: asOf).map { ($0.commissionerId, $0.providerId) }
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
