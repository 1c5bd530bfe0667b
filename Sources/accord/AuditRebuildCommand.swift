import ArgumentParser

/// `accord audit rebuild` (being written).
struct AuditRebuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rebuild", abstract: "Not available yet.")

    func run() async throws {
        throw ValidationError("accord audit rebuild is not available yet")
    }
}
