import AccordProcesses
import Foundation

/// Query latency against a view: each kind of query at a fixed total rate from concurrent
/// keep-alive clients, latency from each request's scheduled time.
enum QueryFigures {
    /// A kind of query and its target p99.
    struct Kind: Sendable {
        let name: String
        let targetMilliseconds: Double
        let paths: [String]
    }

    /// What a view answers: its size and the values to filter by, read from the API itself.
    struct ViewFacts: Sendable {
        let cases: Int
        let areas: [String]
        let rules: [String]
        let agencies: [String]
    }

    /// p99 per kind name, in seconds, with the view's case count and the requests given up per kind.
    struct Measured: Sendable {
        let cases: Int
        let p99: [String: Double]
        let p50: [String: Double]
        let unsent: [String: Int]
    }

    /// Any 2xx answer is a success.
    static let ok: @Sendable (Int, HTTPAnswer) -> String? = { _, response in
        (200..<300).contains(response.status) ? nil : "status \(response.status): \(response.text.prefix(200))"
    }

    /// Reads the case count and the areas, rules and agencies of open flags from the view.
    static func facts(port: Int, fallbackAreas: [String]) async throws -> ViewFacts {
        try await Threads.run(name: "accord-bench-facts") {
            let connection = HTTPConnection(port: port)
            let cases = try connection.send(HTTPRequestBytes.get("/v1/cases?limit=1", port: port))
            guard cases.status == 200, let total = cases.jsonObject()?["total"] as? Int else {
                throw BenchError("/v1/cases answered \(cases.status): \(cases.text.prefix(200))")
            }
            let flags = try connection.send(HTTPRequestBytes.get("/v1/flags?open=true&limit=1000", port: port))
            let items = flags.jsonObject()?["items"] as? [[String: Any]] ?? []
            let areas = Set(items.compactMap { $0["area"] as? String })
            let rules = Set(items.compactMap { $0["rule"] as? String })
            let agencies = Set(items.compactMap { $0["accountableKind"] as? String })
            return ViewFacts(cases: total, areas: areas.isEmpty ? fallbackAreas : areas.sorted(),
                             rules: rules.isEmpty ? ["case-unallocated"] : rules.sorted(),
                             agencies: agencies.isEmpty ? ["probation"] : agencies.sorted())
        }
    }

    /// The kinds of query measured, with the paths they cycle through.
    static func kinds(_ facts: ViewFacts, caseIds: [String]) -> [Kind] {
        var generator = SystemRandomNumberGenerator()
        let sample = caseIds.isEmpty ? ["X100000"] : (0..<min(5_000, caseIds.count * 4)).map { _ in
            caseIds[Int.random(in: 0..<caseIds.count, using: &generator)]
        }
        let page = "/v1/flags?open=true&limit=20"
        return [
            Kind(name: "case lookup /v1/cases/{id}", targetMilliseconds: 5, paths: sample.map { "/v1/cases/\($0)" }),
            Kind(name: "open flags, first page", targetMilliseconds: 20, paths: [page]),
            Kind(name: "open flags by area", targetMilliseconds: 20, paths: facts.areas.map { "\(page)&area=\($0)" }),
            Kind(name: "open flags by agency", targetMilliseconds: 20, paths: facts.agencies.map { "\(page)&agency=\($0)" }),
            Kind(name: "open flags by rule", targetMilliseconds: 20, paths: facts.rules.map { "\(page)&rule=\($0)" }),
            Kind(name: "area summary", targetMilliseconds: 20, paths: facts.areas.map { "/v1/areas/\($0)/summary" }),
        ]
    }

    /// Measures every kind against `view`.
    static func measure(_ context: BenchContext, view: QueryView, fallbackAreas: [String]) async throws -> Measured {
        let options = context.options
        let facts = try await facts(port: view.port, fallbackAreas: fallbackAreas)
        context.progress.say("query: \(view.name) holds \(facts.cases) cases; \(Int(options.queryRate)) req/s from \(options.queryConnections) clients, \(options.querySeconds) s per kind")
        var p99: [String: Double] = [:]
        var p50: [String: Double] = [:]
        var unsent: [String: Int] = [:]
        for kind in kinds(facts, caseIds: view.caseIds) where !kind.paths.isEmpty {
            let paths = kind.paths
            let port = view.port
            let request: @Sendable (Int) -> [UInt8] = { HTTPRequestBytes.get(paths[$0 % paths.count], port: port) }
            let warmup = try await ClosedLoopLoad(port: port, count: 4 * options.queryConnections,
                                                  connections: options.queryConnections, request: request,
                                                  check: Self.ok).run()
            guard warmup.failures == 0 else {
                throw BenchError("query \(kind.name) on \(view.name): \(warmup.failures) failed: \(warmup.firstFailure ?? "?")")
            }
            let result = try await OpenLoopLoad(port: port, rate: options.queryRate,
                                                count: max(1, Int(options.queryRate * options.querySeconds)),
                                                connections: options.queryConnections,
                                                cap: options.loadCap(options.querySeconds), request: request).run()
            guard result.failures == 0, let q99 = result.quantile(0.99), let q50 = result.quantile(0.5) else {
                throw BenchError("query \(kind.name) on \(view.name): \(result.failures) failed: \(result.firstFailure ?? "?")")
            }
            p99[kind.name] = q99
            p50[kind.name] = q50
            unsent[kind.name] = result.unsent
            context.progress.say("query: \(kind.name) on \(view.name): p50 \(String(format: "%.2f", q50 * 1000)) ms, p99 \(String(format: "%.2f", q99 * 1000)) ms"
                                 + (result.unsent > 0 ? " (saturated: \(result.unsent) requests not sent within the cap count with their age at the cap, a lower bound)" : ""))
        }
        return Measured(cases: facts.cases, p99: p99, p50: p50, unsent: unsent)
    }

    /// Rows: p99 of each kind on the large view, on the small view, and their ratio (not judged
    /// when either run saturated the API, since its p99 is then only a lower bound).
    static func rows(large: Measured, small: Measured) throws -> [BenchRow] {
        let givenUp = { (measured: Measured) in Double(measured.unsent.values.reduce(0, +)) }
        var rows: [BenchRow] = [
            try BenchRow("query view size (large)", Double(large.cases), "cases"),
            try BenchRow("query view size (small)", Double(small.cases), "cases"),
            try BenchRow("query requests given up at the time cap (API saturated), \(large.cases) cases", givenUp(large),
                         "requests", target: .equals(0, "requests")),
            try BenchRow("query requests given up at the time cap (API saturated), \(small.cases) cases", givenUp(small),
                         "requests", target: .equals(0, "requests")),
        ]
        let kinds = kinds(ViewFacts(cases: 0, areas: [], rules: [], agencies: []), caseIds: [])
        for kind in kinds {
            guard let big = large.p99[kind.name], let little = small.p99[kind.name] else { continue }
            rows.append(try BenchRow("query p99 \(kind.name), \(large.cases) cases", big * 1000, "ms",
                                     target: .atMost(kind.targetMilliseconds, "ms")))
            rows.append(try BenchRow("query p99 \(kind.name), \(small.cases) cases", little * 1000, "ms",
                                     target: .atMost(kind.targetMilliseconds, "ms")))
            let saturated = (large.unsent[kind.name] ?? 0) > 0 || (small.unsent[kind.name] ?? 0) > 0
            rows.append(try BenchRow("query p99 \(kind.name), \(large.cases) ÷ \(small.cases) cases", big * 1000, "ms",
                                     baseline: little * 1000, target: .ratioAtMost(2, "ratio"), judged: !saturated))
        }
        return rows
    }
}
