import ArgumentParser
import Foundation
import Logging

/// Log-level option shared by every subcommand; logs go to stderr, quiet by default.
struct LoggingOptions: ParsableArguments {
    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical (env ACCORD_LOG_LEVEL).")
    var logLevel: Logger.Level?

    /// Installs a stderr log handler at the chosen level (default: notice).
    func bootstrap() {
        let level = logLevel
            ?? ProcessInfo.processInfo.environment["ACCORD_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
            ?? .notice
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
