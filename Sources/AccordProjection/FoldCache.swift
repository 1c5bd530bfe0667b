import Synchronization

/// Memo of the folds of whole subjects (every event of the subject applied), shared by copies
/// of one unchanged `ProjectionState`. A mutated state gets a fresh cache unless it is the sole owner,
/// in which case only the touched subjects are dropped.
final class FoldCache: Sendable {
    private struct Storage {
        var cases: [String: CaseFold] = [:]
        var contracts: [String: ContractFold] = [:]
    }

    private let storage = Mutex(Storage())

    func caseFold(_ id: String) -> CaseFold? { storage.withLock { $0.cases[id] } }
    func store(_ fold: CaseFold) { storage.withLock { $0.cases[fold.caseId] = fold } }
    func contractFold(_ id: String) -> ContractFold? { storage.withLock { $0.contracts[id] } }
    func store(_ fold: ContractFold) { storage.withLock { $0.contracts[fold.contractId] = fold } }

    func invalidateCase(_ id: String) { storage.withLock { _ = $0.cases.removeValue(forKey: id) } }
    func invalidateContract(_ id: String) { storage.withLock { _ = $0.contracts.removeValue(forKey: id) } }
}
