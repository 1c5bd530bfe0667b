import CRdKafka

/// librdkafka configuration properties (see librdkafka's CONFIGURATION.md), applied as given.
public struct KafkaConfig: Sendable, Hashable {
    /// Property name to value.
    public var properties: [String: String]

    /// Creates a configuration from raw properties.
    public init(_ properties: [String: String] = [:]) {
        self.properties = properties
    }

    /// Reads or writes one property.
    public subscript(key: String) -> String? {
        get { properties[key] }
        set { properties[key] = newValue }
    }

    /// Returns a copy with `other`'s properties laid over this one's.
    public func merging(_ other: [String: String]) -> KafkaConfig {
        KafkaConfig(properties.merging(other) { _, new in new })
    }

    /// Builds a librdkafka configuration object; the caller owns the result.
    func makeNative() throws -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError(kind: .configuration, message: "out of memory creating configuration")
        }
        var errorText = [CChar](repeating: 0, count: 512)
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
            let result = rd_kafka_conf_set(conf, key, value, &errorText, errorText.count)
            if result != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                let reason = String(errorBuffer: errorText)
                throw KafkaError(kind: .configuration, message: "\(key)=\(value): \(reason)")
            }
        }
        return conf
    }
}
