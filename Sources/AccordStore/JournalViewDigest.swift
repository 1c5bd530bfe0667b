import AccordEvents
import AccordIntegrity
import AccordProjection

/// The view digest a journal checkpoint signs (`schemas/integrity.md` §7, "defined by the
/// store"): SHA-256 of the canonical JSON (`ViewDigest.canonicalJSON`) of the whole view
/// snapshot as of the latest event time the view holds; `Hash256.zero` for an empty view.
///
/// The projector computes it after each checkpointed batch; an audit that replays the journal
/// up to the checkpoint's position, in journal order, must get the same value.
public enum JournalViewDigest {
    /// The digest of `state` as of `latestEventTime` (nil: nothing applied yet).
    public static func digest(of state: ProjectionState, asOf latestEventTime: Timestamp?) -> Hash256 {
        guard let latestEventTime else { return .zero }
        return Hash256.sha256(Array(ViewDigest.canonicalJSON(state.snapshot(asOf: latestEventTime))))
    }
}
