import AccordBus
import AccordEvents
import AccordIntegrity
import AccordKafka
import AccordProjection
import Foundation

/// Everything on the agency topics, read back from the broker with a "catch up, then stop"
/// replay, and the view an uninterrupted projection of it gives.
struct TopicReplay {
    /// Every record of every agency topic, partition by partition.
    let records: [ConsumerRecord]
    /// The records that decode and validate as the projector requires.
    let events: [(event: AccordEvent, recordedAt: Timestamp)]
    /// The in-process projection of `events`, in the replay's order.
    let state: ProjectionState

    /// Distinct event ids among the valid records.
    var distinctEvents: Int { Set(events.map(\.event.id)).count }

    /// Reads every agency topic (`partitions` each) to its current end.
    static func read(bootstrap: String, partitions: Int32,
                     topics: [String] = AccordTopic.all.filter { $0.owner != nil }.map(\.name)) async throws -> TopicReplay {
        let records = try await readAll(bootstrap: bootstrap, partitions: partitions, topics: topics)
        let codec = EventCodec()
        var events: [(event: AccordEvent, recordedAt: Timestamp)] = []
        var state = ProjectionState()
        for record in records {
            // The projector's check: decode against the topic, then validate; others are dead-lettered.
            guard let event = try? record.decodeEvent(codec: codec), (try? event.validate()) != nil else { continue }
            let recordedAt = recordedAt(of: record, fallback: event.time)
            events.append((event, recordedAt))
            _ = state.apply(event, recordedAt: recordedAt)
        }
        return TopicReplay(records: records, events: events, state: state)
    }

    /// Every record of `topics`, read from the beginning to the end each partition had when the read began.
    static func readAll(bootstrap: String, partitions: Int32, topics: [String]) async throws -> [ConsumerRecord] {
        let consumer = try KafkaConsumer(configuration: .init(bootstrapServers: bootstrap, clientID: "accord-e2e-replay"))
        var starts: [TopicPartition: StartOffset] = [:]
        for topic in topics {
            for partition in 0..<partitions { starts[TopicPartition(topic: topic, partition: partition)] = .beginning }
        }
        do {
            try await consumer.assign(starts, stopAtEnd: true)
            var records: [ConsumerRecord] = []
            // Chain checkpoints share the topics with events; only events are compared.
            for try await record in consumer.records where !ChainCheckpoint.isCheckpointRecord(record.binaryMessage) {
                records.append(record)
            }
            await consumer.close()
            return records
        } catch {
            await consumer.close()
            throw error
        }
    }

    /// When the record was written to Kafka (its timestamp), as the projector reads it.
    static func recordedAt(of record: ConsumerRecord, fallback: Timestamp) -> Timestamp {
        guard let milliseconds = record.timestampMilliseconds, milliseconds > 0 else { return fallback }
        return Timestamp(secondsSinceEpoch: milliseconds / 1000, nanoseconds: Int32(milliseconds % 1000) * 1_000_000) ?? fallback
    }
}

/// The projector's digest of its view at `asOf` (and `knownAt`), with its event count.
func projectorDigest(_ projector: RunningProjector, asOf: Timestamp, knownAt: Timestamp? = nil) async throws -> (digest: String, events: Int) {
    var url = "\(projector.base)/v1/view/digest?asOf=\(asOf.rfc3339)"
    if let knownAt { url += "&knownAt=\(knownAt.rfc3339)" }
    let (status, answer) = try await getJSON(url)
    guard status == 200, let data = answer["data"] as? [String: Any], let digest = data["digest"] as? String,
          let events = data["events"] as? Int else {
        throw E2EError("GET \(url): \(status) \(answer)")
    }
    return (digest, events)
}

extension Timestamp {
    /// This instant plus `days` whole days.
    func plus(days: Double) -> Timestamp {
        adding(seconds: Int64(days * 86_400)) ?? self
    }

    /// This instant without its fraction of a second.
    var wholeSeconds: Timestamp { Timestamp(secondsSinceEpoch: secondsSinceEpoch) ?? self }
}
