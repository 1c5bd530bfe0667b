import AccordEvents
import Testing

@Suite("CalendarDate and Timestamp")
struct DateTimeTests {
    @Test func calendarDatesAreValidated() {
        #expect(CalendarDate("2024-02-29")?.day == 29)
        #expect(CalendarDate("2025-02-29") == nil)
        #expect(CalendarDate("2025-04-31") == nil)
        #expect(CalendarDate("2025-13-01") == nil)
        #expect(CalendarDate("0000-01-01") == nil)
        #expect(CalendarDate("25-01-01") == nil)
        #expect(CalendarDate("2025-1-01") == nil)
        #expect(CalendarDate("2025-01-01T") == nil)
        #expect(CalendarDate("2025-03-03")?.description == "2025-03-03")
        #expect(CalendarDate("1970-01-01")?.daysSinceEpoch == 0)
        #expect(CalendarDate("2024-12-31")?.adding(days: 60) == CalendarDate("2025-03-01"))
        #expect(CalendarDate("2025-03-03")! < CalendarDate("2025-03-04")!)
    }

    @Test func timestampsParseRFC3339AndNormaliseToUTC() throws {
        let a = try #require(Timestamp(rfc3339: "2025-03-01T10:30:00+01:00"))
        let b = try #require(Timestamp(rfc3339: "2025-03-01T09:30:00Z"))
        #expect(a == b)
        #expect(a.rfc3339 == "2025-03-01T09:30:00Z")
        #expect(Timestamp(rfc3339: "2025-03-01t09:30:00.5z")?.rfc3339 == "2025-03-01T09:30:00.500Z")
        #expect(Timestamp(rfc3339: "2025-03-01T09:30:00.000123Z")?.rfc3339 == "2025-03-01T09:30:00.000123Z")
        #expect(Timestamp(rfc3339: "2025-03-01T09:30:00.123456789123Z")?.nanoseconds == 123_456_789)
        #expect(Timestamp(rfc3339: "1969-12-31T23:59:59Z")?.secondsSinceEpoch == -1)
        #expect(Timestamp(rfc3339: "1969-12-31T23:59:59Z")?.rfc3339 == "1969-12-31T23:59:59Z")
        #expect(Timestamp(rfc3339: "2025-03-01T00:30:00+01:00")?.utcDate == CalendarDate("2025-02-28"))
        for bad in ["2025-03-01 09:30:00Z", "2025-03-01T24:00:00Z", "2025-02-29T00:00:00Z", "2025-03-01T09:30:00",
                    "2025-03-01T09:30Z", "2025-03-01T09:30:00.Z", "2025-03-01T09:30:00+0100", "yesterday", "",
                    "2025-03-01T09:30:00Z ", "2025-03-01T09:60:00Z"] {
            #expect(Timestamp(rfc3339: bad) == nil, "\(bad) should not parse")
        }
    }
}
