import AccordService

await ProbationServiceCommand.start()
