/// Mutates seed inputs the way coverage-guided fuzzers do: flipped bits, replaced and inserted
/// bytes, tokens from a dictionary, deleted, repeated and spliced ranges, truncation. Every
/// mutation keeps the result within `maxLength` bytes.
///
/// PropertyBased generates values of standard types; an input that is almost right (a real event
/// with one byte wrong) is what reaches deep into a parser, so the mutations are written here.
public struct ByteMutator: Sendable {
    /// The inputs mutations start from (at least one).
    public let seeds: [[UInt8]]
    /// Tokens inserted or written over the input: syntax, boundary values, names the parser knows.
    public let dictionary: [[UInt8]]
    /// The longest input produced.
    public let maxLength: Int

    /// Creates a mutator over `seeds` (an empty list means one empty seed).
    public init(seeds: [[UInt8]], dictionary: [[UInt8]] = [], maxLength: Int = 64 * 1024) {
        self.seeds = seeds.isEmpty ? [[]] : seeds
        self.dictionary = dictionary + ByteMutator.boundaryTokens
        self.maxLength = max(1, maxLength)
    }

    /// Byte sequences that break parsers: invalid and overlong UTF-8, a byte order mark, NUL,
    /// lone surrogates, huge and odd numbers, and deep nesting.
    public static let boundaryTokens: [[UInt8]] = [
        [0x00], [0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xEF, 0xBB, 0xBF], [0xE2, 0x80, 0xA8],
        Array(#"\u0000"#.utf8), Array(#"\ud800"#.utf8), Array(#"\udc00\ud800"#.utf8), Array(#"\"#.utf8),
        Array("1e999".utf8), Array("-0".utf8), Array("18446744073709551616".utf8), Array("0.1e-400".utf8), Array("01".utf8),
        Array("9999-12-31T23:59:60Z".utf8), Array("0000-00-00".utf8), Array("2025-02-30T25:61:00+25:00".utf8),
        Array(repeating: UInt8(ascii: "["), count: 200), Array(repeating: UInt8(ascii: "{"), count: 3),
        Array(#"{"a":"#.utf8), Array(#"""#.utf8), Array(#"":"#.utf8), Array("null".utf8), Array("true".utf8),
        Array("../".utf8), Array("%2F".utf8), Array(repeating: UInt8(ascii: "x"), count: 300),
    ]

    /// One mutated input: a seed (sometimes spliced with another) after one to eight mutations.
    public func mutate(using rng: inout some RandomNumberGenerator) -> [UInt8] {
        mutate(seeds[Int.random(in: 0..<seeds.count, using: &rng)], using: &rng)
    }

    /// `input` after one to eight mutations, one in half the cases (an input one step from a
    /// valid one reaches the checks behind the parser); splices take the other part from the seeds.
    public func mutate(_ input: [UInt8], using rng: inout some RandomNumberGenerator) -> [UInt8] {
        var bytes = input
        let rounds = Bool.random(using: &rng) ? 1 : Int.random(in: 2...8, using: &rng)
        for _ in 0..<rounds {
            mutateOnce(&bytes, using: &rng)
        }
        if bytes.count > maxLength { bytes.removeLast(bytes.count - maxLength) }
        return bytes
    }

    private func mutateOnce(_ bytes: inout [UInt8], using rng: inout some RandomNumberGenerator) {
        func position(inclusive: Bool = false) -> Int {
            let upper = inclusive ? bytes.count : bytes.count - 1
            return upper <= 0 ? 0 : Int.random(in: 0...upper, using: &rng)
        }
        let token = dictionary[Int.random(in: 0..<dictionary.count, using: &rng)]
        switch Int.random(in: 0..<9, using: &rng) {
        case 0 where !bytes.isEmpty:
            bytes[position()] ^= UInt8(1) << UInt8.random(in: 0...7, using: &rng)
        case 1 where !bytes.isEmpty:
            bytes[position()] = UInt8.random(in: 0...255, using: &rng)
        case 2:
            bytes.insert(UInt8.random(in: 0...255, using: &rng), at: position(inclusive: true))
        case 3:
            bytes.insert(contentsOf: token, at: position(inclusive: true))
        case 4 where !bytes.isEmpty:
            let start = position()
            let end = min(bytes.count, start + token.count)
            bytes.replaceSubrange(start..<end, with: token)
        case 5 where !bytes.isEmpty:
            let start = position()
            let end = min(bytes.count, start + Int.random(in: 1...64, using: &rng))
            bytes.removeSubrange(start..<end)
        case 6 where !bytes.isEmpty:
            let start = position()
            let end = min(bytes.count, start + Int.random(in: 1...64, using: &rng))
            let copy = Array(bytes[start..<end])
            for _ in 0..<Int.random(in: 1...4, using: &rng) { bytes.insert(contentsOf: copy, at: position(inclusive: true)) }
        case 7:
            bytes.removeLast(bytes.count - position(inclusive: true))
        default:
            let other = seeds[Int.random(in: 0..<seeds.count, using: &rng)]
            let cut = position(inclusive: true)
            let from = other.isEmpty ? 0 : Int.random(in: 0...other.count, using: &rng)
            bytes = Array(bytes[..<cut]) + Array(other[from...])
        }
    }
}
