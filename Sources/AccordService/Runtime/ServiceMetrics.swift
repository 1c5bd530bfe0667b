import Prometheus

/// The service's Prometheus metrics, in its own registry (also the one `MetricsSystem` is
/// bootstrapped with in the executables, so library metrics land in the same exposition).
public final class ServiceMetrics: Sendable {
    /// The registry `/metrics` renders.
    public let registry: PrometheusCollectorRegistry
    private let agencyLabel: (String, String)

    private static var accepted: MetricNameDescriptor {
        descriptor("intake", "events_accepted", "total", "Events accepted by the HTTP intake (acknowledged by Kafka, including idempotent retries).")
    }
    private static var rejected: MetricNameDescriptor {
        descriptor("intake", "events_rejected", "total", "Intake requests or items rejected, by reason.")
    }
    private static var published: MetricNameDescriptor {
        descriptor("intake", "events_published", "total", "Events newly published to Kafka and acknowledged, by topic.")
    }
    private static var httpRequests: MetricNameDescriptor {
        descriptor("http", "requests", "total", "HTTP requests answered, by status code.")
    }
    private static var reactionLag: MetricNameDescriptor {
        descriptor("reaction", "lag", "records", "Records on other agencies' topics not yet applied to the reaction state.")
    }
    private static var reactionApplied: MetricNameDescriptor {
        descriptor("reaction", "events_applied", "total", "Events from other agencies' topics applied to the reaction state.")
    }
    private static var reactionRejected: MetricNameDescriptor {
        descriptor("reaction", "records_skipped", "total", "Consumed records that did not decode as valid Accord events and were skipped.")
    }

    private static var checkpoints: MetricNameDescriptor {
        descriptor("integrity", "checkpoints_published", "total", "Signed chain checkpoints acknowledged by Kafka, by topic.")
    }

    /// An `accord_<subsystem>_<name>_<unit>` metric name with its help text.
    private static func descriptor(_ subsystem: String, _ name: String, _ unit: String,
                                   _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "accord", subsystem: subsystem, metricName: name, unitName: unit, helpText: help)
    }

    /// Creates the metrics of one agency in `registry`.
    public init(agencyId: String, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        self.agencyLabel = ("agency", agencyId)
        registry.makeGauge(descriptor: Self.reactionLag, labels: [agencyLabel]).set(to: 0)
        registry.makeCounter(descriptor: Self.accepted, labels: [agencyLabel]).increment(by: Int64(0))
    }

    /// Counts `count` accepted events.
    func accepted(_ count: Int) {
        registry.makeCounter(descriptor: Self.accepted, labels: [agencyLabel]).increment(by: Int64(count))
    }

    /// Counts `count` rejections for `reason`.
    func rejected(_ reason: String, count: Int = 1) {
        registry.makeCounter(descriptor: Self.rejected, labels: [agencyLabel, ("reason", reason)]).increment(by: Int64(count))
    }

    /// Counts one newly published event on `topic`.
    func published(topic: String) {
        registry.makeCounter(descriptor: Self.published, labels: [agencyLabel, ("topic", topic)]).increment()
    }

    /// Counts one acknowledged chain checkpoint on `topic`.
    func checkpointPublished(topic: String) {
        registry.makeCounter(descriptor: Self.checkpoints, labels: [agencyLabel, ("topic", topic)]).increment()
    }

    /// Counts one HTTP response with `status`.
    func httpResponse(status: Int) {
        registry.makeCounter(descriptor: Self.httpRequests, labels: [agencyLabel, ("status", String(status))]).increment()
    }

    /// Sets the reaction lag.
    func reactionLag(_ records: Int64) {
        registry.makeGauge(descriptor: Self.reactionLag, labels: [agencyLabel]).set(to: Double(records))
    }

    /// Counts one applied reaction event.
    func reactionApplied() {
        registry.makeCounter(descriptor: Self.reactionApplied, labels: [agencyLabel]).increment()
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
