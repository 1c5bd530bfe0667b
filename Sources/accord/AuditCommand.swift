import ArgumentParser

/// `accord audit`: checks and replays the history an auditor relies on.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Verify the journal, replay the view as of any instant, rebuild and compare, prove one record.",
        subcommands: [AuditVerifyCommand.self, AuditReplayCommand.self, AuditRebuildCommand.self, AuditProveCommand.self,
                      AuditVerifyProofCommand.self]
    )
}
