import ArgumentParser
import Foundation

/// Shared behaviour of the three service commands.
protocol AgencyServiceCommand: AsyncParsableCommand {
    static var profile: AgencyProfile { get }
    var options: ServiceOptions { get }
}

extension AgencyServiceCommand {
    static func makeConfiguration(abstract: String) -> CommandConfiguration {
        CommandConfiguration(
            commandName: profile.serviceName, abstract: abstract,
            discussion: """
            HTTP API: POST /v1/events (the agency's own event types: application/json or \
            application/cloudevents+json, one object or an array; or CloudEvents binary mode with ce-type; \
            optional Idempotency-Key header), GET /v1/events/{id}, \
            GET /v1/chains/{topic}/{partition}/events?from=&limit= (the sealed records of a chain, with the \
            newest signed checkpoint), GET /v1/keys (the public key as a key registry), GET /health, GET /ready, \
            GET /metrics, and the agency's reaction view.
            An accepted event is written to the outbox (a local SQLite file) with its sequence number and \
            chain position before the service answers 202; a relay then publishes it to Kafka. While Kafka \
            is unreachable the service keeps accepting up to --outbox-max-pending unsent entries, then \
            answers 503 with Retry-After. Every event is hash-chained per topic partition and covered by \
            checkpoints signed with the agency's Ed25519 key (schemas/integrity.md).
            Environment: ACCORD_BOOTSTRAP_SERVERS, ACCORD_AGENCY_ID, ACCORD_HTTP_PORT, ACCORD_LOG_LEVEL, \
            ACCORD_SIGNING_KEY, ACCORD_DATA_DIR.
            """)
    }

    func runService(alertSource: (@Sendable (_ storePath: String) throws -> any ContractAlertSource)? = nil) async throws {
        let configuration = try options.configuration(for: Self.profile, environment: ProcessInfo.processInfo.environment)
        let source: (any ContractAlertSource)?
        do {
            source = try alertSource?(configuration.resolvedReactionStorePath)
        } catch {
            throw ServiceSetupError("the contract alerts' view could not be opened at \(configuration.resolvedReactionStorePath): \(error)")
        }
        try await AgencyServiceRunner.run(configuration, alertSource: source)
    }
}

/// `probation-service`: publishes probation events; worklist of non-compliance awaiting enforcement decisions.
public struct ProbationServiceCommand: AgencyServiceCommand {
    /// The command's configuration.
    public static let configuration = makeConfiguration(
        abstract: "The probation agency service: publishes case events and lists the incidents on its cases awaiting its enforcement decision, as the view's enforcement-decision-overdue rule counts them (GET /v1/worklist).")
    static var profile: AgencyProfile { .probation }

    /// The options.
    @OptionGroup public var options: ServiceOptions

    /// Creates the command.
    public init() {}

    /// Runs the service until SIGINT or SIGTERM.
    public func run() async throws { try await runService() }

    /// Parses the process arguments and runs the command (the executable's whole `main`).
    public static func start() async { await main() }
}

/// `interventions-service`: publishes provider events; worklist of referrals awaiting an answer.
public struct InterventionsServiceCommand: AgencyServiceCommand {
    /// The command's configuration.
    public static let configuration = makeConfiguration(
        abstract: "The intervention provider service: publishes delivery events and lists referrals awaiting its answer, as the view's referral-unanswered rule counts them (GET /v1/worklist).")
    static var profile: AgencyProfile { .interventions }

    /// The options.
    @OptionGroup public var options: ServiceOptions

    /// Creates the command.
    public init() {}

    /// Runs the service until SIGINT or SIGTERM.
    public func run() async throws { try await runService() }

    /// Parses the process arguments and runs the command (the executable's whole `main`).
    public static func start() async { await main() }
}

/// `commissioner-service`: publishes commissioning and police outcome events; contract alerts.
public struct CommissionerServiceCommand: AgencyServiceCommand {
    /// The command's configuration.
    public static let configuration = makeConfiguration(
        abstract: "The commissioner service: publishes commissioning and police outcome events and lists its contracts below their service levels (GET /v1/alerts).")
    static var profile: AgencyProfile { .commissioner }

    /// The options.
    @OptionGroup public var options: ServiceOptions

    /// Creates the command.
    public init() {}

    /// Runs the service until SIGINT or SIGTERM, without contract alerts (`GET /v1/alerts` answers 503).
    public func run() async throws { try await runService() }

    /// Parses the process arguments and runs the service with contract alerts from the source
    /// `alertSource` opens at the reaction store path it is given (the executable's whole `main`).
    public static func start(alertSource: @escaping @Sendable (_ storePath: String) throws -> any ContractAlertSource) async {
        do {
            let command = try parse()
            try await command.runService(alertSource: alertSource)
        } catch {
            exit(withError: error)
        }
    }
}
