import AccordService

await CommissionerServiceCommand.start(alertSource: { ProjectionContractAlertSource() })
