import CRdKafka

/// An error from the Kafka layer: what failed, librdkafka's error code where there is one, and why.
public struct KafkaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The operation or condition that failed.
    public enum Kind: String, Sendable, Equatable {
        /// A configuration property was rejected.
        case configuration
        /// librdkafka could not create a client handle.
        case clientCreation
        /// A record could not be enqueued for sending.
        case produce
        /// The broker did not acknowledge a record (delivery report carried an error).
        case delivery
        /// An offset could not be stored or committed.
        case commit
        /// The record's partition is not (or no longer) assigned to this consumer.
        case partitionNotAssigned
        /// Subscribing, assigning or seeking failed.
        case subscription
        /// Consuming failed with an error the caller must see.
        case consume
        /// A metadata or watermark query failed.
        case query
        /// An admin operation (such as creating topics) failed.
        case admin
        /// The embedded mock cluster reported an error.
        case mockCluster
        /// The client was already shut down.
        case closed
    }

    /// What kind of failure this is.
    public let kind: Kind
    /// librdkafka's `rd_kafka_resp_err_t` value, or 0 when the error is Accord's own.
    public let code: Int32
    /// Human-readable explanation.
    public let message: String

    /// Creates an error.
    public init(kind: Kind, code: Int32 = 0, message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    init(kind: Kind, error: rd_kafka_resp_err_t, context: String? = nil) {
        let text = String(cString: rd_kafka_err2str(error))
        self.init(kind: kind, code: error.rawValue, message: context.map { "\($0): \(text)" } ?? text)
    }

    /// librdkafka's symbolic name for `code` (for example `_MSG_TIMED_OUT`), empty when `code` is 0.
    public var codeName: String {
        code == 0 ? "" : String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(rawValue: code)))
    }

    public var description: String {
        code == 0 ? "\(kind.rawValue): \(message)" : "\(kind.rawValue) [\(codeName)]: \(message)"
    }
}

extension rd_kafka_resp_err_t {
    var isError: Bool { self != RD_KAFKA_RESP_ERR_NO_ERROR }
}

extension String {
    /// Decodes a NUL-terminated C error buffer filled in by librdkafka.
    init(errorBuffer: [CChar]) {
        let bytes = errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        self = String(decoding: bytes, as: UTF8.self)
    }
}
