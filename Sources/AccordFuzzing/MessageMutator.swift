import AccordEvents

/// Mutates Kafka records the way a hostile or broken producer would write them: the value, a
/// header's value or name changed, a header dropped, repeated or added, two headers' values
/// swapped, the key changed or missing.
public struct MessageMutator: Sendable {
    /// The records mutations start from (at least one).
    public let seeds: [BinaryMessage]
    /// Mutates values, keys and header values.
    public let bytes: ByteMutator
    /// Header names a producer might send (added with a random value).
    public let headerNames: [String]

    /// Creates a mutator over `seeds`; `dictionary` adds tokens to the byte mutations.
    public init(seeds: [BinaryMessage], dictionary: [[UInt8]] = [], maxValueLength: Int = 64 * 1024) {
        self.seeds = seeds.isEmpty ? [BinaryMessage(key: nil, headers: [], value: [])] : seeds
        let headerValues = self.seeds.flatMap { $0.headers.map(\.value) }
        bytes = ByteMutator(seeds: self.seeds.map(\.value) + headerValues, dictionary: dictionary, maxLength: maxValueLength)
        var names: [String] = []
        for header in self.seeds.flatMap(\.headers) where !names.contains(header.name) { names.append(header.name) }
        headerNames = names + ["ce_", "CE_ID", "ce_id ", "accord-record-kind", ""]
    }

    /// One mutated record: a seed after one to four mutations (one in half the cases).
    public func mutate(using rng: inout some RandomNumberGenerator) -> BinaryMessage {
        var message = seeds[Int.random(in: 0..<seeds.count, using: &rng)]
        let rounds = Bool.random(using: &rng) ? 1 : Int.random(in: 2...4, using: &rng)
        for _ in 0..<rounds {
            mutateOnce(&message, using: &rng)
        }
        return message
    }

    private func mutateOnce(_ message: inout BinaryMessage, using rng: inout some RandomNumberGenerator) {
        let headerCount = message.headers.count
        let index = headerCount == 0 ? 0 : Int.random(in: 0..<headerCount, using: &rng)
        switch Int.random(in: 0..<8, using: &rng) {
        case 0 where headerCount > 0:
            message.headers[index].value = bytes.mutate(message.headers[index].value, using: &rng)
        case 1 where headerCount > 0:
            let name = bytes.mutate(Array(message.headers[index].name.utf8), using: &rng)
            message.headers[index].name = String(decoding: name, as: UTF8.self)
        case 2 where headerCount > 0:
            message.headers.remove(at: index)
        case 3 where headerCount > 0:
            var copy = message.headers[index]
            copy.value = bytes.mutate(copy.value, using: &rng)
            message.headers.insert(copy, at: Int.random(in: 0...headerCount, using: &rng))
        case 4:
            let name = headerNames[Int.random(in: 0..<headerNames.count, using: &rng)]
            message.headers.append(MessageHeader(name: name, value: bytes.mutate(using: &rng)))
        case 5 where headerCount > 1:
            let other = Int.random(in: 0..<headerCount, using: &rng)
            let value = message.headers[index].value
            message.headers[index].value = message.headers[other].value
            message.headers[other].value = value
        case 6:
            message.key = Bool.random(using: &rng) ? nil : bytes.mutate(message.key ?? [], using: &rng)
        default:
            message.value = bytes.mutate(message.value, using: &rng)
        }
    }
}
