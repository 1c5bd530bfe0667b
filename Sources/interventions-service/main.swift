import AccordService

await InterventionsServiceCommand.start()
