import AccordEvents
import AccordFuzzing
import Testing

/// The event decoder, fuzzed with a fixed budget: real events of every kind, as Kafka records
/// (binary mode) and as CloudEvents JSON (structured mode), mutated the way a broken or hostile
/// producer would write them. Whatever arrives, the decoder answers with an event or a specific
/// error; an event it accepts survives encoding and decoding again unchanged.
@Suite("Event decoder under fuzzed input")
struct DecoderFuzzTests {
    static let codec = EventCodec()
    static let events = EventSamples.oneOfEach()

    static let attributeTokens: [[UInt8]] = [
        "1.0", "2.0", "application/json", "text/plain; charset=iso-8859-1", "urn:accord:probation:nps-london",
        "urn:accord:interventions:ace-payback", "urn:accord:probation:rogue-office", "org.accord.probation.case-opened.v2",
        "org.accord.nothing.v1", "X100001", "9999-12-31T23:59:59Z", "2025-03-03T09:00:00+01:00", "-1", "0",
        "9223372036854775808", "\"riskLevel\":\"very-high\"", "\"hours\":-5",
    ].map { Array($0.utf8) }

    /// Every record a decoded event should come from: the seeds and their topics.
    static let records: [(message: BinaryMessage, topic: String)] = events.compactMap { event in
        (try? codec.encodeBinary(event)).map { ($0, event.topic.name) }
    }

    static let recordMutator = MessageMutator(seeds: records.map(\.message), dictionary: attributeTokens, maxValueLength: 8 * 1024)
    static let structuredMutator = ByteMutator(seeds: events.compactMap { try? codec.encodeStructured($0) },
                                               dictionary: attributeTokens, maxLength: 16 * 1024)

    /// Kept cases, run before the generated ones on every run: any input the fuzzer finds that
    /// breaks a property. (None so far.)
    static let regressions: [String] = []

    @Test("the seeds are every kind of event, each decoding to itself")
    func seeds() throws {
        #expect(Self.records.count == EventKind.allCases.count)
        for (record, event) in zip(Self.records, Self.events) {
            #expect(try Self.codec.decodeBinary(record.message, topic: record.topic) == event)
        }
    }

    @Test("mutated Kafka records: a specific error, or an event that encodes and decodes to itself")
    func binary() async {
        await fuzz("event-binary", what: "Kafka records to the event decoder, on every topic",
                   checks: "every refusal names its field, every event decoded survives a round trip", count: 2_000, input: Self.recordMutator.generator, regressions: Self.regressions) { input in
            var outcome = FuzzOutcome.refused
            for topic in AccordTopic.all.map(\.name) {
                let event = Self.check(try Self.codec.decodeBinary(input.message, topic: topic), input) { event in
                    try Self.codec.decodeBinary(Self.codec.encodeBinary(event), topic: topic)
                }
                if event != nil { outcome = .accepted }
            }
            return outcome
        }
    }

    @Test("mutated CloudEvents JSON: a specific error, or an event that encodes and decodes to itself")
    func structured() async {
        await fuzz("event-structured", what: "CloudEvents JSON to the event decoder",
                   checks: "every refusal names its field, every event decoded survives a round trip", count: 2_000, input: Self.structuredMutator.generator, regressions: Self.regressions) { input in
            let event = Self.check(try Self.codec.decodeStructured(input.bytes), input) { event in
                try Self.codec.decodeStructured(Self.codec.encodeStructured(event))
            }
            Self.check(try Self.codec.decodeStructured(input.bytes, topic: AccordTopic.probationCaseEvents.name), input) { event in
                try Self.codec.decodeStructured(Self.codec.encodeStructured(event), topic: AccordTopic.probationCaseEvents.name)
            }
            return event == nil ? .refused : .accepted
        }
    }

    @Test("mutated event data for every kind: a specific error, or a payload that encodes and decodes to itself")
    func data() async {
        let mutator = ByteMutator(seeds: Self.events.compactMap { try? Self.codec.encodeData($0.payload) },
                                  dictionary: Self.attributeTokens, maxLength: 8 * 1024)
        await fuzz("event-data", what: "event data to the decoder of every kind",
                   checks: "every refusal names its field, every payload decoded survives a round trip", count: 1_000, input: mutator.generator, regressions: Self.regressions) { input in
            var outcome = FuzzOutcome.refused
            for kind in EventKind.allCases {
                let payload = Self.check(try Self.codec.decodeData(input.bytes, kind: kind), input) { payload in
                    try Self.codec.decodeData(Self.codec.encodeData(payload), kind: kind)
                }
                if payload != nil { outcome = .accepted }
            }
            return outcome
        }
    }

    /// Checks one decoding: an error must name its field and say what was wrong; a value must
    /// come back unchanged from `roundTrip`.
    @discardableResult
    static func check<Value: Equatable>(_ decode: @autoclosure () throws(EventError) -> Value, _ input: some FuzzCase,
                                        roundTrip: (Value) throws -> Value) -> Value? {
        do throws(EventError) {
            let value = try decode()
            do {
                let again = try roundTrip(value)
                #expect(again == value, "accepted \(input) but it does not survive a round trip")
            } catch {
                Issue.record("accepted \(input) but cannot encode and decode it again: \(error)")
            }
            return value
        } catch {
            #expect(!error.field.isEmpty && !error.message.isEmpty, "\(error.reason.rawValue) with no field or message for \(input)")
            return nil
        }
    }
}
