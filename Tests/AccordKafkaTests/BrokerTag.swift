import Testing

extension Tag {
    /// Suites that start an embedded Kafka broker (librdkafka's mock cluster) and talk to it
    /// over TCP on 127.0.0.1; the tag shows in test reports and lets IDEs and tools select them.
    @Tag static var broker: Self
}
