import Logging
import Metrics
import Prometheus

/// Process-wide setup shared by Accord's executables.
public enum ProcessRuntime {
    /// Sends every log line to stderr as a structured line at `level` and above. Once per process.
    public static func bootstrapLogging(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    /// Creates the process's Prometheus registry and makes it the backend of swift-metrics. Once per process.
    public static func bootstrapMetrics() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }

    /// Parses a log level name, or returns `fallback`.
    public static func logLevel(_ name: String?, fallback: Logger.Level = .notice) -> Logger.Level {
        name.flatMap(Logger.Level.init(rawValue:)) ?? fallback
    }
}
