/// A calendar date without a time of day or zone (ISO 8601 / RFC 3339 `full-date`,
/// written `YYYY-MM-DD`), e.g. a sentence start date or a due-by date.
///
/// Only real dates in years 0001–9999 are representable; `2025-02-30` is rejected.
/// Encodes to and decodes from a JSON string.
public struct CalendarDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The year, 1...9999.
    public let year: Int
    /// The month, 1...12.
    public let month: Int
    /// The day of the month, 1...28/29/30/31 depending on month and year.
    public let day: Int

    /// Creates a date from its parts, or returns nil when the parts name no real date.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
              day >= 1, day <= CalendarDate.daysIn(month: month, year: year) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Creates a date from parts already known to be valid (internal use only).
    init(checkedYear year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses exactly `YYYY-MM-DD`; returns nil for any other shape or an impossible date.
    public init?(_ text: String) {
        var text = text
        let parsed: CalendarDate? = text.withUTF8 { CalendarDate.parse($0[...]) }
        guard let parsed else { return nil }
        self = parsed
    }

    /// Parses `YYYY-MM-DD` from exactly the given UTF-8 bytes.
    static func parse(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> CalendarDate? {
        guard bytes.count == 10 else { return nil }
        let b = bytes.startIndex
        guard bytes[b + 4] == UInt8(ascii: "-"), bytes[b + 7] == UInt8(ascii: "-"),
              let y = DigitParser.number(bytes, from: b, count: 4),
              let m = DigitParser.number(bytes, from: b + 5, count: 2),
              let d = DigitParser.number(bytes, from: b + 8, count: 2) else { return nil }
        return CalendarDate(year: y, month: m, day: d)
    }

    /// Number of days in the month of the given year (proleptic Gregorian calendar).
    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 1, 3, 5, 7, 8, 10, 12: return 31
        case 4, 6, 9, 11: return 30
        case 2: return isLeap(year) ? 29 : 28
        default: return 0
        }
    }

    /// Whether the year is a Gregorian leap year.
    public static func isLeap(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    /// Days since 1970-01-01 (negative before it).
    public var daysSinceEpoch: Int {
        CalendarDate.daysFromCivil(year: year, month: month, day: day)
    }

    /// The date `days` days after this one (before it when negative), or nil outside years 1...9999.
    public func adding(days: Int) -> CalendarDate? {
        CalendarDate(daysSinceEpoch: daysSinceEpoch + days)
    }

    /// The date that is the given number of days after 1970-01-01, or nil outside years 1...9999.
    public init?(daysSinceEpoch: Int) {
        let (y, m, d) = CalendarDate.civilFromDays(daysSinceEpoch)
        guard let date = CalendarDate(year: y, month: m, day: d) else { return nil }
        self = date
    }

    /// The `YYYY-MM-DD` text of the date.
    public var description: String {
        var out = ""
        out.reserveCapacity(10)
        DigitParser.append(year, width: 4, to: &out)
        out.append("-")
        DigitParser.append(month, width: 2, to: &out)
        out.append("-")
        DigitParser.append(day, width: 2, to: &out)
        return out
    }

    /// Orders dates chronologically.
    public static func < (lhs: CalendarDate, rhs: CalendarDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    /// Decodes from a JSON string in `YYYY-MM-DD` form.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let date = CalendarDate(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "invalid date \"\(text.prefix(40))\"; expected YYYY-MM-DD")
        }
        self = date
    }

    /// Encodes as a JSON string in `YYYY-MM-DD` form.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    // Howard Hinnant's public-domain civil-calendar algorithms, written out here.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return (y, m, d)
    }
}

/// Small helpers for reading and writing fixed-width decimal digits without allocation.
enum DigitParser {
    /// Reads `count` ASCII digits starting at `start`; nil if any byte is not a digit.
    static func number(_ bytes: Slice<UnsafeBufferPointer<UInt8>>, from start: Int, count: Int) -> Int? {
        var value = 0
        for i in start..<(start + count) {
            let c = bytes[i]
            guard c >= 48, c <= 57 else { return nil }
            value = value * 10 + Int(c - 48)
        }
        return value
    }

    /// Appends `value` zero-padded to `width` digits.
    static func append(_ value: Int, width: Int, to out: inout String) {
        let digits = String(value)
        if digits.utf8.count < width {
            out.append(String(repeating: "0", count: width - digits.utf8.count))
        }
        out.append(digits)
    }
}
