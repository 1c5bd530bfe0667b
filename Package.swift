// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Accord",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "accord", targets: ["accord"]),
        .library(name: "AccordKafka", targets: ["AccordKafka"]),
        .library(name: "AccordEvents", targets: ["AccordEvents"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
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
        // The `accord` command line: broker (and later demo, publish, audit).
        .executableTarget(
            name: "accord",
            dependencies: [
                "AccordKafka",
                "AccordEvents",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "AccordEventsTests", dependencies: ["AccordEvents"]),
        .testTarget(name: "AccordKafkaTests", dependencies: ["AccordKafka"]),
        .testTarget(name: "AccordIntegrationTests", dependencies: ["AccordKafka", "AccordEvents"]),
    ]
)
