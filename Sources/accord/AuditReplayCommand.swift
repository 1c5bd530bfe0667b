import ArgumentParser

/// `accord audit replay` (being written).
struct AuditReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "replay", abstract: "Not available yet.")

    func run() async throws {
        throw ValidationError("accord audit replay is not available yet")
    }
}
