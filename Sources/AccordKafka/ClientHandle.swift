import CRdKafka
import Logging
import Synchronization

/// Owns one `rd_kafka_t` and the context object its callbacks reach through the
/// handle's opaque pointer. The context is retained until the handle is destroyed,
/// so callbacks that librdkafka fires during destruction still find it.
final class ClientHandle: @unchecked Sendable {
    // @unchecked: `pointer` is immutable and librdkafka handles are thread-safe.
    let pointer: OpaquePointer
    let context: ClientContext
    private let contextReference: Unmanaged<ClientContext>
    private let destroyed = Atomic<Bool>(false)

    /// Creates a librdkafka client of `type` from `config`, wiring logging and error callbacks.
    init(type: rd_kafka_type_t, config: KafkaConfig, context: ClientContext,
         configure: (OpaquePointer) -> Void = { _ in }) throws {
        let conf = try config.makeNative()
        let reference = Unmanaged.passRetained(context)
        rd_kafka_conf_set_opaque(conf, reference.toOpaque())
        rd_kafka_conf_set_log_cb(conf) { handle, level, facility, buffer in
            guard let handle, let opaque = rd_kafka_opaque(handle) else { return }
            let context = Unmanaged<ClientContext>.fromOpaque(opaque).takeUnretainedValue()
            context.log(level: level, facility: facility.map { String(cString: $0) } ?? "",
                        message: buffer.map { String(cString: $0) } ?? "")
        }
        rd_kafka_conf_set_error_cb(conf) { _, error, reason, opaque in
            guard let opaque else { return }
            let context = Unmanaged<ClientContext>.fromOpaque(opaque).takeUnretainedValue()
            context.clientError(code: rd_kafka_resp_err_t(rawValue: error), reason: reason.map { String(cString: $0) } ?? "")
        }
        configure(conf)
        var errorText = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(type, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)
            reference.release()
            let reason = String(errorBuffer: errorText)
            throw KafkaError(kind: .clientCreation, message: reason)
        }
        self.pointer = handle
        self.context = context
        self.contextReference = reference
    }

    /// Destroys the librdkafka handle (blocking until its threads end) exactly once.
    func destroy() {
        guard !destroyed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        rd_kafka_destroy(pointer)
        contextReference.release()
    }

    deinit { destroy() }
}

/// State shared with librdkafka's C callbacks for one client handle.
class ClientContext: @unchecked Sendable {
    // @unchecked: subclasses add only thread-safe state; `logger` is immutable.
    let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    /// Forwards one librdkafka log line (syslog levels) to swift-log.
    func log(level: Int32, facility: String, message: String) {
        let swiftLevel: Logger.Level
        switch level {
        case ...3: swiftLevel = .error
        case 4: swiftLevel = .warning
        default: swiftLevel = .debug
        }
        logger.log(level: swiftLevel, "\(message)", metadata: ["librdkafka.facility": "\(facility)"])
    }

    /// Called for client-level errors (broker down, fatal idempotence errors and the like).
    func clientError(code: rd_kafka_resp_err_t, reason: String) {
        let name = String(cString: rd_kafka_err2name(code))
        // Transient broker connectivity is normal during faults; librdkafka retries.
        let level: Logger.Level = code == RD_KAFKA_RESP_ERR__FATAL ? .error : .debug
        logger.log(level: level, "kafka client error", metadata: ["error": "\(name)", "reason": "\(reason)"])
    }
}
