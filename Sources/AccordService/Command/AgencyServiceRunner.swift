import AccordRuntime
import Foundation
import Logging
import ServiceLifecycle

/// Runs one agency service process: logging to stderr, Prometheus metrics, the service and its
/// HTTP server in a `ServiceGroup` that shuts down gracefully on SIGINT and SIGTERM.
public enum AgencyServiceRunner {
    /// Bootstraps logging and metrics (once per process) and runs until a shutdown signal.
    /// `alertSource` answers the commissioner's contract alerts (ignored for other kinds).
    public static func run(_ configuration: ServiceConfiguration, alertSource: (any ContractAlertSource)? = nil) async throws {
        let level = configuration.logLevel
        ProcessRuntime.bootstrapLogging(level: level)
        let registry = ProcessRuntime.bootstrapMetrics()
        ProcessRuntime.limitMallocArenas()
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
