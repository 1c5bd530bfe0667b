import Logging
import Metrics
import Prometheus
#if canImport(Glibc)
import Glibc
#endif

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

    /// Bounds glibc's malloc to `arenas` arenas (unless `MALLOC_ARENA_MAX` is set). By default it
    /// opens up to eight per core, one for each thread that contends; with librdkafka's threads
    /// and the concurrency pool a long-running service then holds freed memory in many arenas
    /// that are never returned. Once per process, before the threads start. No effect elsewhere.
    public static func limitMallocArenas(_ arenas: Int32 = 2) {
        #if canImport(Glibc)
        guard getenv("MALLOC_ARENA_MAX") == nil else { return }
        // `mallopt` is declared in malloc.h, which the Glibc module does not import; it is looked
        // up instead of adding a C target for one call. M_ARENA_MAX is -8 in malloc.h.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        _ = unsafeBitCast(symbol, to: Mallopt.self)(-8, arenas)
        #endif
    }

    /// Parses a log level name, or returns `fallback`.
    public static func logLevel(_ name: String?, fallback: Logger.Level = .notice) -> Logger.Level {
        name.flatMap(Logger.Level.init(rawValue:)) ?? fallback
    }
}
