import ArgumentParser

/// `accord audit verify` (being written).
struct AuditVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify", abstract: "Not available yet.")

    func run() async throws {
        throw ValidationError("accord audit verify is not available yet")
    }
}
