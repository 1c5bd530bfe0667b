import AccordRuntime
import Prometheus

/// The service's Prometheus metrics, in its own registry (also the one `MetricsSystem` is
/// bootstrapped with in the executables, so library metrics land in the same exposition).
public final class ServiceMetrics: Sendable {
    /// The registry `/metrics` renders.
    public let registry: PrometheusCollectorRegistry
    private let agencyLabel: (String, String)

    private static var accepted: MetricNameDescriptor {
        MetricName.descriptor("intake", "events_accepted", "total", help: "Events accepted by the HTTP intake into the outbox (including idempotent retries).")
    }
    private static var rejected: MetricNameDescriptor {
        MetricName.descriptor("intake", "events_rejected", "total", help: "Intake requests or items rejected, by reason.")
    }
    private static var refused: MetricNameDescriptor {
        MetricName.descriptor("intake", "requests_refused", "total", help: "Intake requests answered 503 because the outbox holds its bound of unsent entries.")
    }
    private static var published: MetricNameDescriptor {
        MetricName.descriptor("outbox", "events_published", "total", help: "Outbox events acknowledged by Kafka.")
    }
    private static var checkpoints: MetricNameDescriptor {
        MetricName.descriptor("integrity", "checkpoints_published", "total", help: "Signed chain checkpoints acknowledged by Kafka.")
    }
    private static var pending: MetricNameDescriptor {
        MetricName.descriptor("outbox", "pending", "entries", help: "Outbox entries (events and checkpoints) not yet acknowledged by Kafka.")
    }
    private static var retries: MetricNameDescriptor {
        MetricName.descriptor("outbox", "retries", "total", help: "Outbox entries sent again after Kafka did not acknowledge them.")
    }
    private static var httpRequests: MetricNameDescriptor {
        MetricName.descriptor("http", "requests", "total", help: "HTTP requests answered, by status code.")
    }
    private static var reactionLag: MetricNameDescriptor {
        MetricName.descriptor("reaction", "lag", "records", help: "Records on consumed topics not yet applied to the reaction state.")
    }
    private static var reactionApplied: MetricNameDescriptor {
        MetricName.descriptor("reaction", "events_applied", "total", help: "Events from consumed topics applied to the reaction state.")
    }
    private static var reactionFailed: MetricNameDescriptor {
        MetricName.descriptor("reaction", "apply_failures", "total",
                              help: "Events that could not be applied to the reaction view; it is incomplete until the service restarts.")
    }
    private static var reactionRejected: MetricNameDescriptor {
        MetricName.descriptor("reaction", "records_skipped", "total", help: "Consumed records that did not decode as valid Accord events and were skipped.")
    }

    private let acceptedCounter: Counter
    private let publishedCounter: Counter
    private let checkpointCounter: Counter
    private let pendingGauge: Gauge
    private let retryCounter: Counter
    private let refusedCounter: Counter

    /// Creates the metrics of one agency in `registry`.
    public init(agencyId: String, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        let agency = ("agency", agencyId)
        self.agencyLabel = agency
        registry.makeGauge(descriptor: Self.reactionLag, labels: [agency]).set(to: 0)
        acceptedCounter = registry.makeCounter(descriptor: Self.accepted, labels: [agency])
        publishedCounter = registry.makeCounter(descriptor: Self.published, labels: [agency])
        checkpointCounter = registry.makeCounter(descriptor: Self.checkpoints, labels: [agency])
        pendingGauge = registry.makeGauge(descriptor: Self.pending, labels: [agency])
        retryCounter = registry.makeCounter(descriptor: Self.retries, labels: [agency])
        refusedCounter = registry.makeCounter(descriptor: Self.refused, labels: [agency])
        acceptedCounter.increment(by: Int64(0))
        publishedCounter.increment(by: Int64(0))
        retryCounter.increment(by: Int64(0))
        refusedCounter.increment(by: Int64(0))
    }

    /// Counts `count` accepted events.
    func accepted(_ count: Int) { acceptedCounter.increment(by: Int64(count)) }

    /// Counts `count` rejections for `reason`.
    func rejected(_ reason: String, count: Int = 1) {
        registry.makeCounter(descriptor: Self.rejected, labels: [agencyLabel, ("reason", reason)]).increment(by: Int64(count))
    }

    /// Counts one request refused because the outbox is full.
    func refused() { refusedCounter.increment() }

    /// Counts events and checkpoints Kafka acknowledged from the outbox.
    func relayPublished(events: Int, checkpoints: Int) {
        if events > 0 { publishedCounter.increment(by: Int64(events)) }
        if checkpoints > 0 { checkpointCounter.increment(by: Int64(checkpoints)) }
    }

    /// Counts entries that will be sent again.
    func relayRetried(_ count: Int) { retryCounter.increment(by: Int64(count)) }

    /// Sets the number of unsent outbox entries.
    func pending(_ count: Int) { pendingGauge.set(to: Double(count)) }

    /// Counts one HTTP response with `status`.
    func httpResponse(status: Int) {
        registry.makeCounter(descriptor: Self.httpRequests, labels: [agencyLabel, ("status", String(status))]).increment()
    }

    /// Sets the reaction lag.
    func reactionLag(_ records: Int64) {
        registry.makeGauge(descriptor: Self.reactionLag, labels: [agencyLabel]).set(to: Double(records))
    }

    /// Counts one applied reaction event.
    func reactionApplied(_ count: Int = 1) {
        registry.makeCounter(descriptor: Self.reactionApplied, labels: [agencyLabel]).increment(by: Int64(count))
    }

    /// Counts events the reaction view could not take.
    func reactionFailed(_ count: Int) {
        registry.makeCounter(descriptor: Self.reactionFailed, labels: [agencyLabel]).increment(by: Int64(count))
    }

    /// Counts one skipped record.
    func reactionSkipped() {
        registry.makeCounter(descriptor: Self.reactionRejected, labels: [agencyLabel]).increment()
    }

    /// The Prometheus text exposition.
    public func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
