import AccordEvents

/// Writes JSON in the RFC 8785 canonical form (JCS): no whitespace, object members in the order
/// of their names' UTF-16 code units (for Accord's ASCII member names: byte order), strings with
/// only `"`, `\` and control characters escaped, numbers as ECMAScript writes them. Absent
/// optional members are omitted. The view digest (`schemas/integrity.md` §11) hashes these bytes.
///
/// Callers emit members in sorted order themselves (each record's writer lists its keys sorted);
/// `CanonicalJSONTests` checks every writer against Python's `json.dumps(sort_keys=True)`.
public struct CanonicalJSONWriter: Sendable {
    /// The bytes written.
    public private(set) var bytes: [UInt8] = []
    /// Per open container: whether nothing has been written into it yet.
    private var empty: [Bool] = []
    /// Whether a member name was just written (its value needs no separator).
    private var afterKey = false

    /// An empty writer.
    public init(capacity: Int = 1024) { bytes.reserveCapacity(capacity) }

    /// Writes the separator a value or member needs at this point.
    private mutating func valueStart() {
        if afterKey {
            afterKey = false
            return
        }
        guard let last = empty.last else { return }
        if last { empty[empty.count - 1] = false } else { bytes.append(UInt8(ascii: ",")) }
    }

    /// Opens an object (as a value).
    public mutating func beginObject() {
        valueStart()
        bytes.append(UInt8(ascii: "{"))
        empty.append(true)
    }

    /// Closes the current object.
    public mutating func endObject() {
        empty.removeLast()
        bytes.append(UInt8(ascii: "}"))
    }

    /// Opens an array (as a value).
    public mutating func beginArray() {
        valueStart()
        bytes.append(UInt8(ascii: "["))
        empty.append(true)
    }

    /// Closes the current array.
    public mutating func endArray() {
        empty.removeLast()
        bytes.append(UInt8(ascii: "]"))
    }

    /// Writes a member name; the next call writes its value.
    public mutating func key(_ name: StaticString) {
        valueStart()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        afterKey = true
    }

    /// Writes a string value.
    public mutating func string(_ value: String) {
        valueStart()
        bytes.append(UInt8(ascii: "\""))
        for b in value.utf8 {
            switch b {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x0a: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0c: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0d: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                          hex[Int(b >> 4)], hex[Int(b & 0x0f)]])
            default: bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Writes an integer value.
    public mutating func int(_ value: Int) {
        valueStart()
        bytes.append(contentsOf: String(value).utf8)
    }

    /// Writes an integer value.
    public mutating func int(_ value: Int64) { int(Int(truncatingIfNeeded: value)) }

    /// Writes a Boolean.
    public mutating func bool(_ value: Bool) {
        valueStart()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    /// Writes `null`.
    public mutating func null() {
        valueStart()
        bytes.append(contentsOf: "null".utf8)
    }

    /// Writes a number as ECMAScript's `Number.prototype.toString` does (JCS §3.2.2.3); non-finite
    /// values, which JSON cannot hold, are written as the strings "NaN", "Infinity", "-Infinity".
    public mutating func double(_ value: Double) {
        guard value.isFinite else {
            string(value.isNaN ? "NaN" : (value > 0 ? "Infinity" : "-Infinity"))
            return
        }
        valueStart()
        bytes.append(contentsOf: Self.ecmaScriptNumber(value).utf8)
    }

    /// ECMAScript number text of a finite double.
    public static func ecmaScriptNumber(_ value: Double) -> String {
        if value == 0 { return "0" }
        if value < 0 { return "-" + ecmaScriptNumber(-value) }
        // Shortest round-trip digits and decimal exponent from Swift's description.
        let text = value.description
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...]) ?? 0
        }
        var digits = ""
        var pointPosition = 0
        var seenPoint = false
        for ch in mantissa {
            if ch == "." { seenPoint = true; continue }
            digits.append(ch)
            if !seenPoint { pointPosition += 1 }
        }
        // Strip leading zeros (e.g. "0.001") and trailing zeros.
        while digits.first == "0", digits.count > 1 {
            digits.removeFirst()
            pointPosition -= 1
        }
        while digits.last == "0", digits.count > 1 { digits.removeLast() }
        let k = digits.count
        let n = pointPosition + exponent
        if k <= n && n <= 21 { return digits + String(repeating: "0", count: n - k) }
        if 0 < n && n <= 21 {
            let i = digits.index(digits.startIndex, offsetBy: n)
            return String(digits[..<i]) + "." + String(digits[i...])
        }
        if -6 < n && n <= 0 { return "0." + String(repeating: "0", count: -n) + digits }
        let first = String(digits.prefix(1))
        let rest = String(digits.dropFirst())
        let e = n - 1
        return first + (rest.isEmpty ? "" : "." + rest) + "e" + (e >= 0 ? "+" : "-") + String(abs(e))
    }

    /// Writes an instant as its RFC 3339 text.
    public mutating func timestamp(_ value: Timestamp) { string(value.rfc3339) }

    /// Writes a date as `YYYY-MM-DD`.
    public mutating func date(_ value: CalendarDate) { string(value.description) }

    // Optional members: written only when present.

    /// Writes `name: value` when `value` is present.
    public mutating func member(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        key(name)
        string(value)
    }

    /// Writes `name: value` when `value` is present.
    public mutating func member(_ name: StaticString, _ value: Timestamp?) {
        guard let value else { return }
        key(name)
        timestamp(value)
    }

    /// Writes `name: value` when `value` is present.
    public mutating func member(_ name: StaticString, _ value: CalendarDate?) {
        guard let value else { return }
        key(name)
        date(value)
    }

    /// Writes `name: value` when `value` is present.
    public mutating func member(_ name: StaticString, _ value: Int?) {
        guard let value else { return }
        key(name)
        int(value)
    }

    /// Writes `name: value` when `value` is present.
    public mutating func member(_ name: StaticString, _ value: Double?) {
        guard let value else { return }
        key(name)
        double(value)
    }

    /// Writes `name: value`.
    public mutating func member(_ name: StaticString, _ value: Bool) {
        key(name)
        bool(value)
    }

    /// Writes `name: value` (a catalogue code) when present.
    public mutating func member<C: RawRepresentable>(_ name: StaticString, _ value: C?) where C.RawValue == String {
        guard let value else { return }
        key(name)
        string(value.rawValue)
    }

    /// Writes `name: [strings]`.
    public mutating func member(_ name: StaticString, strings: [String]) {
        key(name)
        beginArray()
        for s in strings { string(s) }
        endArray()
    }
}
