import Prometheus

/// Accord's metric names: `accord_<subsystem>_<name>_<unit>`, with their help text.
public enum MetricName {
    /// The namespace every Accord metric starts with.
    public static let namespace = "accord"

    /// The descriptor of `accord_<subsystem>_<name>_<unit>`.
    public static func descriptor(_ subsystem: String, _ name: String, _ unit: String,
                                  help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: namespace, subsystem: subsystem, metricName: name, unitName: unit, helpText: help)
    }
}
