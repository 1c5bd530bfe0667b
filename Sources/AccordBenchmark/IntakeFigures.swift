import AccordProcesses
import AccordEvents
import AccordSimulation
import Foundation

/// One agency service's HTTP intake on its own embedded broker: batch throughput from several
/// connections, then latency of single-event requests at a fixed rate.
enum IntakeFigures {
    static func run(_ context: BenchContext) async throws -> [BenchRow] {
        let options = context.options
        let agencyId = "nps-london"
        let batchSize = max(1, options.intakeBatch)
        let batches = max(1, options.intakeEvents / batchSize)
        let singles = max(1, Int(options.singleRate * options.singleSeconds))
        let total = batches * batchSize + singles
        context.progress.say("intake: planning \(total) probation events")
        let feed = try ProbationFeed.make(count: total, agencyId: agencyId, seed: options.seed &+ 2)

        // The service's topics: the probation topic sized for what it will receive.
        // (Few partitions: a service reads every partition of its topic before it answers /health.)
        let partitions = max(8, Int32(total * 1_000 / Workload.partitionBudgetBytes + 1))
        let topics = AccordTopic.all.map {
            Workload.Topic(name: $0.name, partitions: $0 == .probationCaseEvents ? partitions : 8)
        }
        let broker = try BenchBroker(topics: topics)
        do {
            let rows = try await measure(context, broker: broker, feed: feed, batches: batches, singles: singles)
            broker.shutdown()
            return rows
        } catch {
            await context.processes.stopAll()
            broker.shutdown()
            throw error
        }
    }

    private static func measure(_ context: BenchContext, broker: BenchBroker, feed: [Submission], batches: Int,
                                singles: Int) async throws -> [BenchRow] {
        let options = context.options
        let agencyId = "nps-london"
        guard let source = EventSource(kind: .probation, agencyId: agencyId) else { throw BenchError("bad agency id") }
        let batchSize = max(1, options.intakeBatch)
        let total = batches * batchSize + singles
        let renderer = SubmissionRenderer()
        let topics = broker.topics
        let keys = try BenchKeys.generate(sources: [source.urn], in: context.path("intake-keys"))
        let service = try await ServiceRun.start(context, kind: .probation, agencyId: agencyId, bootstrap: broker.bootstrap,
                                                 keyFile: keys.keyFile(for: source.urn))
        let port = service.port
        var batchRequests: [[UInt8]] = []
        for index in 0..<batches {
            let body = try renderer.batch(feed[(index * batchSize)..<((index + 1) * batchSize)])
            batchRequests.append(HTTPRequestBytes.post("/v1/events", port: port, body: body))
        }
        var singleRequests: [[UInt8]] = []
        for submission in feed[(batches * batchSize)...] {
            singleRequests.append(HTTPRequestBytes.post("/v1/events", port: port, body: try renderer.json(submission)))
        }
        let accepted: @Sendable (Int, HTTPAnswer) -> String? = { _, response in
            response.status == 202 ? nil : "status \(response.status): \(response.text.prefix(300))"
        }
        context.progress.say("intake: \(batches) batches of \(batchSize) from \(options.intakeConnections) connections")
        let prepared = batchRequests
        let batchRun = try await ClosedLoopLoad(port: port, count: batches, connections: options.intakeConnections,
                                                request: { prepared[$0] }, check: accepted).run()
        guard batchRun.failures == 0 else {
            throw BenchError("intake: \(batchRun.failures) batch requests failed: \(batchRun.firstFailure ?? "?")")
        }
        context.progress.say("intake: \(singles) single-event requests at \(Int(options.singleRate))/s")
        let preparedSingles = singleRequests
        let singleRun = try await OpenLoopLoad(port: port, rate: options.singleRate, count: singles, connections: 8,
                                               cap: options.loadCap(options.singleSeconds),
                                               request: { preparedSingles[$0] }, check: accepted).run()
        if singleRun.unsent > 0 {
            context.progress.say("intake: saturated: \(singleRun.unsent) single-event requests not sent within the cap count with their age at the cap (a lower bound)")
        }
        guard singleRun.failures == 0 else {
            throw BenchError("intake: \(singleRun.failures) single-event requests failed: \(singleRun.firstFailure ?? "?")")
        }
        await service.stop(context)

        // Every accepted event must be on the topic, exactly once.
        let bootstrap = broker.bootstrap
        let probationTopic = topics.filter { $0.name == AccordTopic.probationCaseEvents.name }
        let consumed = try await Threads.run(name: "accord-bench-verify") {
            try RawKafka.consume(bootstrap: bootstrap, topics: probationTopic, expected: Int.max, idle: .seconds(5))
        }
        let events = consumed.records - consumed.checkpoints
        let sent = total - singleRun.unsent
        guard events == sent else {
            throw BenchError("intake: \(sent) events accepted but \(events) found on the topic (\(consumed.records) records read)")
        }
        let rate = Double(batches * batchSize) / batchRun.elapsed
        let ms = 1_000.0
        return [
            try BenchRow("agency service intake events found on Kafka", Double(events), "events",
                         target: .equals(Double(sent), "events")),
            try BenchRow("agency service intake, batches of \(batchSize) from \(options.intakeConnections) connections",
                         rate, "events/s", target: .atLeast(20_000, "events/s")),
            try BenchRow("single-event requests given up at the time cap (service saturated)", Double(singleRun.unsent),
                         "requests", target: .equals(0, "requests")),
            try BenchRow("single-event intake at \(Int(options.singleRate)) req/s, p50", (singleRun.quantile(0.5) ?? 0) * ms, "ms"),
            try BenchRow("single-event intake at \(Int(options.singleRate)) req/s, p99", (singleRun.quantile(0.99) ?? 0) * ms, "ms",
                         target: .atMost(20, "ms")),
        ]
    }
}
