import AccordService

await CommissionerServiceCommand.start(alertSource: { try ProjectionContractAlertSource(storePath: $0) })
