/// An instant on the UTC time line, read and written as RFC 3339 `date-time`
/// (e.g. `2025-03-01T09:30:00Z`), with nanosecond precision.
///
/// Any RFC 3339 offset is accepted when parsing (`+01:00`, `Z`, `z`); the instant is
/// normalised to UTC and always written with `Z`, so two spellings of one instant are equal.
/// Accord never reads the clock: callers supply every timestamp.
public struct Timestamp: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Whole seconds since 1970-01-01T00:00:00Z (negative before it).
    public let secondsSinceEpoch: Int64
    /// Nanoseconds within the second, 0...999_999_999.
    public let nanoseconds: Int32

    /// Creates an instant from seconds since the Unix epoch and a nanosecond remainder,
    /// or returns nil when `nanoseconds` is outside 0...999_999_999 or the year leaves 0001...9999.
    public init?(secondsSinceEpoch: Int64, nanoseconds: Int32 = 0) {
        guard (0...999_999_999).contains(nanoseconds),
              secondsSinceEpoch >= Timestamp.minSeconds, secondsSinceEpoch <= Timestamp.maxSeconds else { return nil }
        self.secondsSinceEpoch = secondsSinceEpoch
        self.nanoseconds = nanoseconds
    }

    /// Midnight UTC at the start of the given date.
    public init(startOf date: CalendarDate) {
        secondsSinceEpoch = Int64(date.daysSinceEpoch) * 86_400
        nanoseconds = 0
    }

    /// Parses an RFC 3339 `date-time`; returns nil for anything else.
    public init?(rfc3339 text: String) {
        var text = text
        let parsed: Timestamp? = text.withUTF8 { Timestamp.parse($0) }
        guard let parsed else { return nil }
        self = parsed
    }

    static let minSeconds: Int64 = Int64(CalendarDate.daysFromCivil(year: 1, month: 1, day: 1)) * 86_400
    static let maxSeconds: Int64 = Int64(CalendarDate.daysFromCivil(year: 9999, month: 12, day: 31)) * 86_400 + 86_399

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Timestamp? {
        // YYYY-MM-DDTHH:MM:SS[.f+](Z|+HH:MM|-HH:MM)
        guard bytes.count >= 20 else { return nil }
        let all = bytes[...]
        guard let date = CalendarDate.parse(bytes[0..<10]) else { return nil }
        let t = bytes[10]
        guard t == UInt8(ascii: "T") || t == UInt8(ascii: "t"),
              bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
              let hour = DigitParser.number(all, from: 11, count: 2),
              let minute = DigitParser.number(all, from: 14, count: 2),
              let second = DigitParser.number(all, from: 17, count: 2),
              hour <= 23, minute <= 59, second <= 59 else { return nil }
        var i = 19
        var nanos = 0
        if bytes[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 {
                if digits < 9 { nanos = nanos * 10 + Int(bytes[i] - 48) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            if digits < 9 {
                for _ in digits..<9 { nanos *= 10 }
            }
        }
        guard i < bytes.count else { return nil }
        var offsetSeconds = 0
        let z = bytes[i]
        if z == UInt8(ascii: "Z") || z == UInt8(ascii: "z") {
            guard i + 1 == bytes.count else { return nil }
        } else if z == UInt8(ascii: "+") || z == UInt8(ascii: "-") {
            guard i + 6 == bytes.count, bytes[i + 3] == UInt8(ascii: ":"),
                  let oh = DigitParser.number(all, from: i + 1, count: 2),
                  let om = DigitParser.number(all, from: i + 4, count: 2),
                  oh <= 23, om <= 59 else { return nil }
            offsetSeconds = (oh * 3600 + om * 60) * (z == UInt8(ascii: "+") ? 1 : -1)
        } else {
            return nil
        }
        let local = Int64(date.daysSinceEpoch) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        return Timestamp(secondsSinceEpoch: local - Int64(offsetSeconds), nanoseconds: Int32(nanos))
    }

    /// The UTC calendar date on which this instant falls.
    public var utcDate: CalendarDate {
        let days = secondsSinceEpoch >= 0 ? secondsSinceEpoch / 86_400 : (secondsSinceEpoch - 86_399) / 86_400
        // In range by construction (years 1...9999).
        let (y, m, d) = CalendarDate.civilFromDays(Int(days))
        return CalendarDate(checkedYear: y, month: m, day: d)
    }

    /// This instant moved by a whole number of seconds, or nil when the result leaves years 1...9999.
    public func adding(seconds: Int64) -> Timestamp? {
        let (sum, overflow) = secondsSinceEpoch.addingReportingOverflow(seconds)
        guard !overflow else { return nil }
        return Timestamp(secondsSinceEpoch: sum, nanoseconds: nanoseconds)
    }

    /// The canonical RFC 3339 UTC text: `YYYY-MM-DDTHH:MM:SS[.fff|.ffffff|.fffffffff]Z`.
    public var rfc3339: String {
        let days = secondsSinceEpoch >= 0 ? secondsSinceEpoch / 86_400 : (secondsSinceEpoch - 86_399) / 86_400
        let secondOfDay = Int(secondsSinceEpoch - days * 86_400)
        var out = utcDate.description
        out.reserveCapacity(30)
        out.append("T")
        DigitParser.append(secondOfDay / 3600, width: 2, to: &out)
        out.append(":")
        DigitParser.append(secondOfDay / 60 % 60, width: 2, to: &out)
        out.append(":")
        DigitParser.append(secondOfDay % 60, width: 2, to: &out)
        if nanoseconds != 0 {
            out.append(".")
            let n = Int(nanoseconds)
            if n % 1_000_000 == 0 {
                DigitParser.append(n / 1_000_000, width: 3, to: &out)
            } else if n % 1000 == 0 {
                DigitParser.append(n / 1000, width: 6, to: &out)
            } else {
                DigitParser.append(n, width: 9, to: &out)
            }
        }
        out.append("Z")
        return out
    }

    /// Same as `rfc3339`.
    public var description: String { rfc3339 }

    /// Orders instants on the time line.
    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        (lhs.secondsSinceEpoch, lhs.nanoseconds) < (rhs.secondsSinceEpoch, rhs.nanoseconds)
    }

    /// Decodes from a JSON string holding an RFC 3339 `date-time`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = Timestamp(rfc3339: text) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "invalid timestamp \"\(text.prefix(40))\"; expected RFC 3339 date-time such as 2025-03-01T09:30:00Z")
        }
        self = value
    }

    /// Encodes as a JSON string in canonical RFC 3339 UTC form.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rfc3339)
    }
}
