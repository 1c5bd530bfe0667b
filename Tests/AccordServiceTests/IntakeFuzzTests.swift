import AccordEvents
import AccordFuzzing
import AccordJSON
import Testing
@testable import AccordService

/// HTTP body parsing at intake, fuzzed with a fixed budget: the bodies a probation office sends
/// (single events and batches, and binary mode's `ce-*` headers with data in the body), mutated.
/// Whatever arrives, the intake either accepts events this agency may publish, each of which the
/// codec encodes and decodes unchanged, or refuses the whole request with errors that say what
/// was wrong and point into the body where it was.
@Suite("Intake under fuzzed bodies")
struct IntakeFuzzTests {
    static let source = EventSamples.probationSource
    static let codec = EventCodec()
    static let validator = IntakeValidator(source: source, codec: codec)
    static let ownEvents = EventSamples.oneOfEach().filter { $0.payload.kind.owner == source.kind }

    /// Bodies as clients write them: `type`, `data`, and sometimes `id`, `time` and `correlationid`.
    static let bodies: [[UInt8]] = {
        let items = ownEvents.enumerated().map { index, event in
            let data = String(decoding: (try? codec.encodeData(event.payload)) ?? [], as: UTF8.self)
            let extras = index % 2 == 0
                ? #","id":"\#(event.id.uuidString.lowercased())","time":"\#(event.time)","correlationid":"corr-\#(index)""# : ""
            return #"{"type":"\#(event.payload.kind.type)","data":\#(data)\#(extras)}"#
        }
        return items.map { Array($0.utf8) } + [Array("[\(items.prefix(3).joined(separator: ","))]".utf8)]
    }()

    static let tokens: [[UInt8]] = [
        #""type":"org.accord.interventions.attendance-recorded.v1""#, #""source":"urn:accord:probation:rogue-office""#,
        #""sequence":7"#, #""id":"../../etc""#, #""time":"9999-12-31T23:59:59Z""#, #""recordedtime":"2025-01-01T00:00:00Z""#,
        #""riskLevel":"very-high""#, #""caseId":"X1""#, #""extra":{"nested":[1,2,3]}"#, #""data":null"#,
    ].map { Array($0.utf8) }

    /// Kept cases, run before the generated ones on every run: bodies the fuzzer found that
    /// broke a property.
    static let regressions: [String] = [
        // An unknown data member named "referralI0.1e-400d": its pointer was built from the dotted
        // field and split at the dot (/data/referralI0/1e-400d, which leads nowhere).
        "base64:eyJ0eXBlIjoib3JnLmFjY29yZC5wcm9iYXRpb24uY29tcGxpYW5jZS1mYWlsdXJlLXJlY29yZGVkLnYxIiwiZGF0YSI6eyJjYXNlSWQiOiJYMTIzNDYwIiwiZmFpbHVyZUlkIjoiQ0YtWDEyMzQ2MC00Iiwia2luZCI6ImN1cmZldy12aW9sYXRpb24iLCJyZWZlcnJhbEkwLjFlLTQwMGQiOiJSRUYtWDEyMzQ2MC0yIiwicmVsYXRlZEV2ZW50SWQiOiIxMDFDMjQ3My0zMTk1LTg3QkEtOERCNi01RkJBREQ5OTAxMTgifSwiaWQiOiI2MjIwZjhiNC0xNzEzLThjOWItOTllNy05Yjg3ZWZmNTM4ZDAiLCJ0aW1lIjoiMjAyNS0wMy0wM1QwOTowNDowMFoiLCJjb3JyZWxhdGlvbmlkIjoiY29yci00In0=",
    ]

    @Test("the seeds are accepted as they are")
    func seeds() throws {
        #expect(Self.ownEvents.count >= 5)
        for body in Self.bodies {
            let submissions = try Self.validator.validate(SubmissionReader.readJSON(body, batchOnly: false))
            #expect(!submissions.isEmpty)
        }
    }

    @Test("mutated JSON bodies: only this agency's own events accepted, or errors that point into the body")
    func jsonBodies() async {
        let mutator = ByteMutator(seeds: Self.bodies, dictionary: Self.tokens, maxLength: 32 * 1024)
        await fuzz("intake-json", what: "HTTP intake JSON bodies (single events and batches)",
                   checks: "only the agency's own events accepted; every error's pointer leads into the body", count: 2_000, input: mutator.generator, regressions: Self.regressions) { input in
            do throws(IntakeFailure) {
                let raw = try SubmissionReader.readJSON(input.bytes, batchOnly: false)
                Self.checkAccepted(try Self.validator.validate(raw), count: raw.count, input)
                return .accepted
            } catch {
                Self.checkRefusal(error, body: input.bytes, input)
                return .refused
            }
        }
    }

    @Test("mutated binary-mode requests: the same, for ce-* headers and data in the body")
    func binaryRequests() async {
        let seeds = Self.ownEvents.map { event in
            BinaryMessage(key: nil, headers: [
                MessageHeader(name: "ce-type", text: event.payload.kind.type),
                MessageHeader(name: "ce-id", text: event.id.uuidString.lowercased()),
                MessageHeader(name: "ce-time", text: "\(event.time)"),
                MessageHeader(name: "ce-correlationid", text: "corr%2D1"),
            ], value: (try? Self.codec.encodeData(event.payload)) ?? [])
        }
        let mutator = MessageMutator(seeds: seeds, dictionary: Self.tokens + [Array("%".utf8), Array("%zz".utf8)], maxValueLength: 16 * 1024)
        await fuzz("intake-binary", what: "HTTP intake binary mode (ce-* headers, data in the body)",
                   checks: "only the agency's own events accepted; every refusal names the problem", count: 1_000, input: mutator.generator) { input in
            let headers = input.message.headers
            let raw = SubmissionReader.readBinary(header: { name in headers.first { $0.name.lowercased() == name }?.text },
                                                  body: input.message.value)
            do throws(IntakeFailure) {
                Self.checkAccepted(try Self.validator.validate([raw]), count: 1, input)
                return .accepted
            } catch {
                Self.checkRefusal(error, body: nil, input)
                return .refused
            }
        }
    }

    static func checkAccepted(_ submissions: [IntakeSubmission], count: Int, _ input: some FuzzCase) {
        #expect(submissions.count == count, "\(input)")
        for submission in submissions {
            #expect(submission.kind.owner == source.kind, "accepted \(submission.kind.type) from \(source.urn): \(input)")
            do {
                let again = try codec.decodeData(codec.encodeData(submission.payload), kind: submission.kind)
                #expect(again == submission.payload, "accepted data that does not survive a round trip: \(input)")
            } catch {
                Issue.record("accepted data the codec cannot publish (\(error)): \(input)")
            }
        }
    }

    /// A refusal must say what was wrong; with a JSON body, a syntax error lies inside it and a
    /// field error's pointer leads to an existing value or to a member missing from one.
    static func checkRefusal(_ failure: IntakeFailure, body: [UInt8]?, _ input: some FuzzCase) {
        switch failure {
        case .malformed(let syntax):
            #expect(body != nil && syntax.offset >= 0 && syntax.offset <= (body?.count ?? 0), "\(syntax) for \(input)")
        case .unsupportedMediaType(let what):
            Issue.record("the body alone cannot have a media type, yet \(what): \(input)")
        case .tooLarge(_, let errors), .invalid(let errors):
            check(errors, body: body, input)
        }
    }

    static func check(_ errors: [IntakeItemError], body: [UInt8]?, _ input: some FuzzCase) {
        #expect(!errors.isEmpty, "refused without saying why: \(input)")
        let document = body.flatMap { try? JSONDocument.parse($0) }
        for error in errors {
            #expect(!error.message.isEmpty && !error.reason.isEmpty && !error.field.isEmpty, "\(error) for \(input)")
            guard let document, !error.pointer.isEmpty else { continue }
            #expect(error.pointer.hasPrefix("/"), "\(error.pointer) for \(input)")
            var tokens = error.pointer.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map {
                $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            }
            tokens.removeLast()
            #expect(resolve(tokens, in: document) != nil, "pointer \(error.pointer) leads nowhere in \(input)")
        }
    }

    static func resolve(_ tokens: [String], in value: JSONValue) -> JSONValue? {
        var current = value
        for token in tokens {
            switch current {
            case .object: guard let next = current[token] else { return nil }; current = next
            case .array(let elements, _):
                guard let index = Int(token), elements.indices.contains(index) else { return nil }
                current = elements[index]
            default: return nil
            }
        }
        return current
    }
}
