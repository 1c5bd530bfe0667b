import AccordService

await CommissionerServiceCommand.start()
