// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Accord",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "accord", targets: ["accord"]),
        .executable(name: "probation-service", targets: ["probation-service"]),
        .executable(name: "interventions-service", targets: ["interventions-service"]),
        .executable(name: "commissioner-service", targets: ["commissioner-service"]),
        .executable(name: "projector", targets: ["projector"]),
        .library(name: "AccordKafka", targets: ["AccordKafka"]),
        .library(name: "AccordEvents", targets: ["AccordEvents"]),
        .library(name: "AccordProjection", targets: ["AccordProjection"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.20.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.24.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // librdkafka (Debian: librdkafka-dev) — the only Kafka client Accord uses.
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        // Thin async Swift API over librdkafka: producer, consumer, admin, embedded mock cluster.
        .target(
            name: "AccordKafka",
            dependencies: [
                "CRdKafka",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        // Typed event catalogue and the CloudEvents 1.0 Kafka binary binding. Pure: no I/O.
        .target(name: "AccordEvents"),
        // Events on Kafka: publishing typed events to their owner's topic, decoding consumed records.
        .target(name: "AccordBus", dependencies: ["AccordKafka", "AccordEvents"]),
        // A JSON reader that keeps byte ranges and line/column positions (intake errors, bulk input). Pure.
        .target(name: "AccordJSON"),
        // Tamper evidence: per-source hash chains, signed checkpoints, key registry, journal chain. Pure.
        .target(
            name: "AccordIntegrity",
            dependencies: ["AccordEvents", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Starting, watching and stopping Accord's processes (demo, end-to-end tests).
        // Accord's own HTTP client calls (publish, chain-range backfill, probes) over AsyncHTTPClient.
        .target(
            name: "AccordHTTPClient",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(name: "AccordProcesses", dependencies: ["AccordHTTPClient"]),
        // A seeded, realistic partnership caseload played as agency submissions. Pure: no I/O, no clock.
        .target(name: "AccordSimulation", dependencies: ["AccordEvents", "AccordJSON", "AccordProjection"]),
        // The accountability view: a pure, deterministic projection of events. No I/O, no clock.
        .target(name: "AccordProjection", dependencies: ["AccordEvents", "AccordIntegrity"]),
        // The projector's SQLite store (GRDB, WAL): journal, view tables and offsets, one transaction per batch.
        .target(
            name: "AccordStore",
            dependencies: [
                "AccordProjection", "AccordEvents", "AccordIntegrity", "AccordBus", "AccordKafka",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // HTTP helpers shared by the agency services and the projector: problem+json, its
        // middleware, JSON responses, media types.
        .target(
            name: "AccordHTTP",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ]
        ),
        // Process runtime shared by Accord's executables: logging and metrics bootstrap, metric
        // naming, the service clock.
        .target(
            name: "AccordRuntime",
            dependencies: [
                "AccordEvents",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // Runtime shared by the agency services: HTTP intake, the durable outbox and its relay,
        // reactors, health and metrics.
        .target(
            name: "AccordService",
            dependencies: [
                "AccordBus", "AccordKafka", "AccordEvents", "AccordJSON", "AccordIntegrity", "AccordHTTP", "AccordRuntime",
                "AccordProjection", "AccordStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "probation-service", dependencies: ["AccordService"]),
        .executableTarget(name: "interventions-service", dependencies: ["AccordService"]),
        // The commissioner's service; its contract alerts come from the projection (AccordService's ProjectionContractAlertSource).
        .executableTarget(name: "commissioner-service", dependencies: ["AccordService"]),
        // The projector: consumes every agency topic, dead-letters bad records, applies the
        // projection into the store and serves the query API.
        .target(
            name: "AccordProjector",
            dependencies: [
                "AccordBus", "AccordKafka", "AccordEvents", "AccordProjection", "AccordStore", "AccordHTTP",
                "AccordRuntime", "AccordIntegrity", "AccordHTTPClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Resources/openapi.json")]
        ),
        // Audits: verifying the journal, replaying the view as of any instant, reports, rebuilds.
        .target(
            name: "AccordAudit",
            dependencies: [
                "AccordStore", "AccordProjection", "AccordEvents", "AccordIntegrity", "AccordBus", "AccordKafka",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "projector",
            dependencies: [
                "AccordProjector", "AccordProjection", "AccordRuntime", "AccordHTTP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Shared test builders: event feeds, temporary paths, stores written the way the projector writes them.
        .target(
            name: "AccordTestSupport",
            dependencies: ["AccordEvents", "AccordIntegrity", "AccordProjection", "AccordStore", "AccordSimulation"]
        ),
        // The rows of docs/reliability.md: what each test attacked Accord with, and the outcome.
        .target(name: "AccordReliabilityLog"),
        // Fuzzing with a fixed budget in the test suite: seed inputs and Kafka records mutated as
        // fuzzers mutate them, run through PropertyBased, with kept regression cases.
        .target(
            name: "AccordFuzzing",
            dependencies: ["AccordEvents", "AccordReliabilityLog", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        // The `accord` command line: broker, topics, publish, demo.
        // Benchmarks: drives the real executables over TCP and an embedded broker, measures through
        // their public surfaces (Kafka, HTTP, /proc, files) against raw librdkafka and SQLite baselines.
        .target(
            name: "AccordBenchmark",
            dependencies: [
                "CRdKafka", "AccordKafka", "AccordEvents", "AccordIntegrity", "AccordSimulation", "AccordProcesses",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "accord",
            dependencies: [
                "AccordKafka", "AccordEvents", "AccordBus", "AccordSimulation", "AccordProcesses", "AccordAudit",
                "AccordIntegrity", "AccordBenchmark", "AccordHTTP", "AccordHTTPClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "AccordEventsTests", dependencies: ["AccordEvents", "AccordFuzzing"]),
        .testTarget(name: "AccordKafkaTests", dependencies: ["AccordKafka"]),
        .testTarget(name: "AccordIntegrationTests", dependencies: ["AccordKafka", "AccordEvents", "AccordBus"]),
        .testTarget(name: "AccordJSONTests", dependencies: ["AccordJSON", "AccordFuzzing"]),
        .testTarget(name: "AccordIntegrityTests", dependencies: ["AccordIntegrity", "AccordEvents", "AccordFuzzing"]),
        .testTarget(
            name: "AccordAuditTests",
            dependencies: ["AccordAudit", "AccordStore", "AccordProjection", "AccordEvents", "AccordIntegrity", "AccordBus", "AccordKafka",
                           "AccordTestSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(name: "AccordSimulationTests", dependencies: ["AccordSimulation", "AccordEvents", "AccordProjection"]),
        .testTarget(name: "AccordProjectionTests", dependencies: ["AccordProjection", "AccordEvents", "AccordTestSupport"]),
        .testTarget(
            name: "AccordStoreTests",
            dependencies: ["AccordStore", "AccordProjection", "AccordEvents", "AccordIntegrity", "AccordTestSupport", "AccordSimulation",
                           .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "AccordServiceTests",
            dependencies: [
                "AccordService", "AccordBus", "AccordKafka", "AccordEvents", "AccordIntegrity", "AccordHTTP",
                "AccordRuntime", "AccordProcesses", "AccordProjection", "AccordSimulation", "AccordTestSupport", "AccordFuzzing", "AccordReliabilityLog",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "AccordProjectorTests",
            dependencies: [
                "AccordProjector", "AccordStore", "AccordProjection", "AccordBus", "AccordKafka", "AccordEvents", "AccordTestSupport", "AccordReliabilityLog",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(name: "AccordBenchmarkTests", dependencies: ["AccordProcesses"]),
        .testTarget(
            name: "AccordEndToEndTests",
            dependencies: [
                "AccordEvents", "AccordKafka", "AccordBus", "AccordProcesses", "AccordProjection", "AccordSimulation",
                "AccordIntegrity", "AccordStore", "AccordReliabilityLog",
            ]
        ),
    ]
)
