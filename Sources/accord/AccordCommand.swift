import ArgumentParser

/// The `accord` command line.
@main
struct AccordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accord",
        abstract: "Accord: a multi-agency partnership event bus for community justice.",
        subcommands: [DemoCommand.self, BrokerCommand.self, TopicsCommand.self, PublishCommand.self, AuditCommand.self, KeysCommand.self,
                      BenchCommand.self, ChaosCommand.self]
    )
}
