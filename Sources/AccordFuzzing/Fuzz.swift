import AccordEvents
import AccordReliabilityLog
import Foundation
import PropertyBased
import Testing

/// A fuzzed input that prints as text a test can keep as a regression case.
public protocol FuzzCase: Sendable, CustomStringConvertible {
    /// Reads a case back from its `description`.
    init?(regression text: String)
}

/// Bytes: a body, a payload, a document. Printed as `base64:…`.
public struct FuzzBytes: FuzzCase, Hashable {
    /// The input.
    public let bytes: [UInt8]

    /// Wraps `bytes`.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public init?(regression text: String) {
        guard text.hasPrefix("base64:"), let data = Data(base64Encoded: String(text.dropFirst(7))) else { return nil }
        bytes = Array(data)
    }

    public var description: String { "base64:" + Data(bytes).base64EncodedString() }
}

/// A Kafka record. Printed as `record:` and base64 of its JSON form.
public struct FuzzRecord: FuzzCase, Hashable {
    /// The input.
    public let message: BinaryMessage

    /// Wraps `message`.
    public init(_ message: BinaryMessage) { self.message = message }

    private struct Form: Codable {
        var key: Data?
        var headers: [[String]]
        var value: Data
    }

    public init?(regression text: String) {
        guard text.hasPrefix("record:"), let data = Data(base64Encoded: String(text.dropFirst(7))),
              let form = try? JSONDecoder().decode(Form.self, from: data) else { return nil }
        var headers: [MessageHeader] = []
        for pair in form.headers {
            guard pair.count == 2, let value = Data(base64Encoded: pair[1]) else { return nil }
            headers.append(MessageHeader(name: pair[0], value: Array(value)))
        }
        message = BinaryMessage(key: form.key.map { Array($0) }, headers: headers, value: Array(form.value))
    }

    public var description: String {
        let form = Form(key: message.key.map { Data($0) },
                        headers: message.headers.map { [$0.name, Data($0.value).base64EncodedString()] },
                        value: Data(message.value))
        let data = (try? JSONEncoder().encode(form)) ?? Data()
        return "record:" + data.base64EncodedString()
    }
}

extension ByteMutator {
    /// Mutated seeds as a PropertyBased generator.
    public var generator: Generator<FuzzBytes, Shrink.None<FuzzBytes>> {
        Generator { rng in FuzzBytes(mutate(using: &rng)) }
    }
}

extension MessageMutator {
    /// Mutated records as a PropertyBased generator.
    public var generator: Generator<FuzzRecord, Shrink.None<FuzzRecord>> {
        Generator { rng in FuzzRecord(mutate(using: &rng)) }
    }
}

/// What the code under test did with one input.
public enum FuzzOutcome: Sendable, Hashable {
    /// It took the input (parsed it, accepted the event, linked the record).
    case accepted
    /// It refused the input with an error.
    case refused
}

/// How many generated inputs were accepted and how many refused.
public struct FuzzTally: Sendable, Hashable, CustomStringConvertible {
    /// Inputs accepted.
    public var accepted = 0
    /// Inputs refused.
    public var refused = 0

    public var description: String { "\(accepted) accepted, \(refused) refused" }
}

/// Fuzzes `property` with a fixed budget inside a Swift Testing test: first every kept
/// regression case, then `count` generated inputs (PropertyBased reports the seed of a failing
/// one). Before each input runs it is written to `accord-fuzz/<target>.last` in the temporary
/// directory, so that an input which crashes the process can be read there and kept.
///
/// `ACCORD_FUZZ_SCALE=N` multiplies the budget for a longer campaign. The run is a row of
/// `docs/reliability.md`: `what` was fuzzed, how many inputs, and the tally with `checks`, the
/// property every input met.
///
/// Unless `bothOutcomes` is false, the generated inputs must include some the code accepts and
/// some it refuses: mutations that only ever produce garbage, or never break anything, would
/// not test the parser's depths.
@discardableResult
public func fuzz<Input: FuzzCase>(_ target: String, what: String, checks: String, count: Int,
                                  input: Generator<Input, Shrink.None<Input>>,
                                  regressions: [String] = [], bothOutcomes: Bool = true,
                                  property: (Input) throws -> FuzzOutcome,
                                  sourceLocation: SourceLocation = #_sourceLocation) async -> FuzzTally {
    let last = FuzzTrail(target: target)
    for text in regressions {
        guard let kept = Input(regression: text) else {
            Issue.record("regression case \(text.prefix(40))… of \(target) cannot be read", sourceLocation: sourceLocation)
            continue
        }
        last.note(kept)
        #expect(throws: Never.self, "regression \(kept)", sourceLocation: sourceLocation) { _ = try property(kept) }
    }
    var tally = FuzzTally()
    let scale = ProcessInfo.processInfo.environment["ACCORD_FUZZ_SCALE"].flatMap { Int($0) }.map { max(1, $0) } ?? 1
    let count = count * scale
    await propertyCheck(count: count, input: input, perform: { (generated: Input) in
        last.note(generated)
        switch try property(generated) {
        case .accepted: tally.accepted += 1
        case .refused: tally.refused += 1
        }
    }, sourceLocation: sourceLocation)
    if bothOutcomes {
        #expect(tally.accepted > 0 && tally.refused > 0, "\(target): \(tally) of \(count)", sourceLocation: sourceLocation)
    }
    ReliabilityLog.record("fuzzed: \(what)", times: count + regressions.count,
                          outcome: "\(tally.accepted) accepted, \(tally.refused) refused, \(regressions.count) kept cases; \(checks)",
                          test: "fuzz \(target)")
    return tally
}

/// Where the input being tried is written before it runs.
private struct FuzzTrail {
    let path: URL?

    init(target: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("accord-fuzz", isDirectory: true)
        path = (try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)) == nil
            ? nil : folder.appendingPathComponent("\(target).last")
    }

    func note(_ input: some FuzzCase) {
        // Best effort: the trail only helps to keep a crashing input; the test does not depend on it.
        guard let path else { return }
        try? Data(input.description.utf8).write(to: path)
    }
}
