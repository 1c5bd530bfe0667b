import AccordEvents
import AccordKafka

extension ProducerRecord {
    /// The Kafka record for `event`: its owner's topic, keyed by its partition key, in
    /// CloudEvents binary content mode (`ce_*` headers, JSON body).
    public init(event: AccordEvent, codec: EventCodec = EventCodec()) throws(EventError) {
        let message = try codec.encodeBinary(event)
        self.init(topic: event.kind.topic.name, key: message.key, value: message.value,
                  headers: message.headers.map { KafkaHeader(key: $0.name, value: $0.value) })
    }
}

extension ConsumerRecord {
    /// This record as a CloudEvents binary message (a null header value reads as empty).
    public var binaryMessage: BinaryMessage {
        BinaryMessage(key: key, headers: headers.map { MessageHeader(name: $0.key, value: $0.value ?? []) }, value: value)
    }

    /// Decodes and checks the event this record carries against the topic it was read from.
    public func decodeEvent(codec: EventCodec = EventCodec()) throws(EventError) -> AccordEvent {
        try codec.decodeBinary(binaryMessage, topic: topic)
    }
}
