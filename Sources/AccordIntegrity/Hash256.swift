import Crypto

/// A SHA-256 digest: the hash of an event, of a journal entry, a chain head or a view digest.
///
/// Held as four big-endian 64-bit words so comparing, hashing and storing one costs no
/// allocation. Its text form is 64 lower-case hexadecimal digits; genesis is all zeros.
public struct Hash256: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Bytes 0–7 of the digest, big-endian.
    public let w0: UInt64
    /// Bytes 8–15 of the digest, big-endian.
    public let w1: UInt64
    /// Bytes 16–23 of the digest, big-endian.
    public let w2: UInt64
    /// Bytes 24–31 of the digest, big-endian.
    public let w3: UInt64

    /// The all-zero value: the `prevhash` of the first event of a chain and the previous hash of
    /// the first journal entry (`0000…0000`, 64 zeros).
    public static let zero = Hash256(w0: 0, w1: 0, w2: 0, w3: 0)

    /// Creates a value from its four big-endian words.
    public init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        self.w0 = w0
        self.w1 = w1
        self.w2 = w2
        self.w3 = w3
    }

    /// Creates a value from exactly 32 bytes; nil for any other length.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 32 else { return nil }
        var words: [UInt64] = [0, 0, 0, 0]
        for (i, b) in bytes.enumerated() {
            words[i >> 3] = words[i >> 3] << 8 | UInt64(b)
        }
        self.init(w0: words[0], w1: words[1], w2: words[2], w3: words[3])
    }

    /// Creates a value from a swift-crypto SHA-256 digest.
    public init(_ digest: SHA256.Digest) {
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        digest.withUnsafeBytes { raw in
            // A SHA-256 digest is always 32 bytes.
            func word(_ at: Int) -> UInt64 {
                var w: UInt64 = 0
                for i in at..<(at + 8) { w = w << 8 | UInt64(raw[i]) }
                return w
            }
            if raw.count == 32 { words = (word(0), word(8), word(16), word(24)) }
        }
        self.init(w0: words.0, w1: words.1, w2: words.2, w3: words.3)
    }

    /// Parses exactly 64 lower-case hexadecimal digits; nil for anything else (upper case included).
    public init?(hex: String) {
        var text = hex
        let parsed: Hash256? = text.withUTF8 { Hash256.parse($0) }
        guard let parsed else { return nil }
        self = parsed
    }

    /// Parses exactly 64 lower-case hexadecimal digits from UTF-8 bytes.
    public init?(hexBytes: some Collection<UInt8>) {
        let array = Array(hexBytes)
        let parsed: Hash256? = array.withUnsafeBufferPointer { Hash256.parse($0) }
        guard let parsed else { return nil }
        self = parsed
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Hash256? {
        guard bytes.count == 64 else { return nil }
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        for i in 0..<64 {
            let c = bytes[i]
            let nibble: UInt64
            switch c {
            case 48...57: nibble = UInt64(c - 48)
            case 97...102: nibble = UInt64(c - 87)
            default: return nil
            }
            switch i >> 4 {
            case 0: words.0 = words.0 << 4 | nibble
            case 1: words.1 = words.1 << 4 | nibble
            case 2: words.2 = words.2 << 4 | nibble
            default: words.3 = words.3 << 4 | nibble
            }
        }
        return Hash256(w0: words.0, w1: words.1, w2: words.2, w3: words.3)
    }

    /// SHA-256 of the given bytes.
    public static func sha256(_ bytes: [UInt8]) -> Hash256 {
        Hash256(SHA256.hash(data: bytes))
    }

    /// The 32 digest bytes.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for w in [w0, w1, w2, w3] {
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: w >> UInt64(shift))) }
        }
        return out
    }

    /// The 64 lower-case hexadecimal digits, appended to `out` as UTF-8.
    public func appendHex(to out: inout [UInt8]) {
        for w in [w0, w1, w2, w3] {
            for shift in stride(from: 60, through: 0, by: -4) {
                out.append(Hash256.hexDigits[Int((w >> UInt64(shift)) & 0xf)])
            }
        }
    }

    /// The 64 lower-case hexadecimal digits.
    public var hex: String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        appendHex(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Same as `hex`.
    public var description: String { hex }

    /// Orders digests by their bytes.
    public static func < (lhs: Hash256, rhs: Hash256) -> Bool {
        (lhs.w0, lhs.w1, lhs.w2, lhs.w3) < (rhs.w0, rhs.w1, rhs.w2, rhs.w3)
    }

    /// Decodes from a JSON string of 64 lower-case hexadecimal digits.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = Hash256(hex: text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "\"\(text.prefix(80))\" is not 64 lower-case hexadecimal digits")
        }
        self = value
    }

    /// Encodes as a JSON string of 64 lower-case hexadecimal digits.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }

    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
