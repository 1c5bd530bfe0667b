import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// Runs one agency service process: logging to stderr, Prometheus metrics, the service and its
/// HTTP server in a `ServiceGroup` that shuts down gracefully on SIGINT and SIGTERM.
public enum AgencyServiceRunner {
    /// Bootstraps logging and metrics (once per process) and runs until a shutdown signal.
    public static func run(_ configuration: ServiceConfiguration, alertSource: (any ContractAlertSource)? = nil) async throws {
        let level = configuration.logLevel
        ProcessRuntime.bootstrapLogging(level: level)
        let registry = ProcessRuntime.bootstrapMetrics()
        var logger = Logger(label: "accord.\(configuration.profile.serviceName)")
        logger.logLevel = level
        let service = try AgencyService(configuration: configuration, alertSource: alertSource,
                                        metrics: ServiceMetrics(agencyId: configuration.agencyId, registry: registry),
                                        logger: logger)
        let group = ServiceGroup(configuration: .init(services: [service.makeApplication()],
                                                      gracefulShutdownSignals: [.sigterm, .sigint],
                                                      logger: logger))
        try await group.run()
    }
}

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
