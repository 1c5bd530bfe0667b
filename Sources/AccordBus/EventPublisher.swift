import AccordEvents
import AccordKafka

/// Publishes Accord events to their owner's topic through an idempotent producer and
/// reports where each was stored once the broker acknowledged it.
public final class EventPublisher: Sendable {
    /// The producer events are sent through.
    public let producer: KafkaProducer
    private let codec: EventCodec

    /// Creates a publisher over `producer`.
    public init(producer: KafkaProducer, codec: EventCodec = EventCodec()) {
        self.producer = producer
        self.codec = codec
    }

    /// Publishes one event and returns its acknowledged position.
    public func publish(_ event: AccordEvent) async throws -> RecordMetadata {
        try await producer.send(ProducerRecord(event: event, codec: codec))
    }

    /// Publishes `events` in order (events about one case keep their order) and returns
    /// one result per event, in the same order, once every delivery report is in.
    public func publish(contentsOf events: [AccordEvent]) async -> [Result<RecordMetadata, any Error>] {
        var records: [ProducerRecord?] = []
        var encodingErrors: [Int: EventError] = [:]
        for (index, event) in events.enumerated() {
            do {
                records.append(try ProducerRecord(event: event, codec: codec))
            } catch {
                records.append(nil)
                encodingErrors[index] = error
            }
        }
        let sent = await producer.send(contentsOf: records.compactMap { $0 })
        var sentIterator = sent.makeIterator()
        return records.indices.map { index -> Result<RecordMetadata, any Error> in
            if let error = encodingErrors[index] { return .failure(error) }
            guard let result = sentIterator.next() else {
                return .failure(KafkaError(kind: .produce, message: "no delivery result"))
            }
            return result.mapError { $0 as any Error }
        }
    }
}
