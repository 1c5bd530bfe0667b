import AccordEvents
import Foundation

/// Appends values to a byte buffer in Accord's compact state encoding: unsigned LEB128
/// varints, zig-zag signed integers, length-prefixed UTF-8 strings, 16-byte UUIDs.
/// Used for the view's stored per-subject state, which is a cache of the journal and is
/// rebuilt from it whenever the encoding version changes.
public struct BinaryWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8]

    /// An empty writer with room for `capacity` bytes.
    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Writes an unsigned varint.
    @inline(__always)
    public mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// Writes a signed integer (zig-zag varint).
    @inline(__always)
    public mutating func int(_ value: Int64) {
        varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// Writes an `Int`.
    @inline(__always)
    public mutating func int(_ value: Int) { int(Int64(value)) }

    /// Writes one byte.
    @inline(__always)
    public mutating func byte(_ value: UInt8) { bytes.append(value) }

    /// Writes a Boolean as one byte.
    @inline(__always)
    public mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    /// Writes a length-prefixed UTF-8 string.
    public mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            varint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    /// Writes an optional string (presence byte, then the string).
    public mutating func string(_ value: String?) {
        if let value {
            byte(1)
            string(value)
        } else {
            byte(0)
        }
    }

    /// Writes raw bytes with a length prefix.
    public mutating func blob(_ value: some Collection<UInt8>) {
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// Writes a double as its 8-byte IEEE 754 bit pattern (little endian).
    public mutating func double(_ value: Double) {
        var bits = value.bitPattern.littleEndian
        withUnsafeBytes(of: &bits) { bytes.append(contentsOf: $0) }
    }

    /// Writes a UUID's 16 bytes.
    public mutating func uuid(_ value: UUID) {
        withUnsafeBytes(of: value.uuid) { bytes.append(contentsOf: $0) }
    }

    /// Writes an optional UUID.
    public mutating func uuid(_ value: UUID?) {
        if let value {
            byte(1)
            uuid(value)
        } else {
            byte(0)
        }
    }

    /// Writes an instant as seconds (zig-zag) and nanoseconds.
    public mutating func timestamp(_ value: Timestamp) {
        int(value.secondsSinceEpoch)
        varint(UInt64(value.nanoseconds))
    }

    /// Writes an optional instant.
    public mutating func timestamp(_ value: Timestamp?) {
        if let value {
            byte(1)
            timestamp(value)
        } else {
            byte(0)
        }
    }

    /// Writes a calendar date as its day number.
    public mutating func date(_ value: CalendarDate) { int(Int64(value.daysSinceEpoch)) }

    /// Writes an optional calendar date.
    public mutating func date(_ value: CalendarDate?) {
        if let value {
            byte(1)
            date(value)
        } else {
            byte(0)
        }
    }

    /// Writes a catalogue code by its raw value.
    public mutating func code<C: RawRepresentable>(_ value: C) where C.RawValue == String { string(value.rawValue) }

    /// Writes an optional catalogue code.
    public mutating func code<C: RawRepresentable>(_ value: C?) where C.RawValue == String { string(value?.rawValue) }
}

/// Why stored state could not be read back.
public struct BinaryDecodingError: Error, Sendable, CustomStringConvertible {
    /// What was wrong, and where.
    public let message: String

    /// Creates an error.
    public init(_ message: String) { self.message = message }

    /// The message.
    public var description: String { message }
}

/// Reads values written by `BinaryWriter`, in the same order. Every read checks bounds and
/// throws `BinaryDecodingError` on truncated or malformed input.
public struct BinaryReader: Sendable {
    private let bytes: [UInt8]
    /// The read position.
    public private(set) var offset: Int

    /// A reader over `bytes`, from the start.
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        offset = 0
    }

    /// Whether every byte has been read.
    public var isAtEnd: Bool { offset >= bytes.count }

    /// Reads an unsigned varint.
    @inline(__always)
    public mutating func varint() throws(BinaryDecodingError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < bytes.count else { throw BinaryDecodingError("truncated varint at byte \(offset)") }
            let b = bytes[offset]
            offset += 1
            guard shift < 64 else { throw BinaryDecodingError("varint too long at byte \(offset)") }
            result |= UInt64(b & 0x7f) << shift
            if b < 0x80 { return result }
            shift += 7
        }
    }

    /// Reads a zig-zag signed integer.
    @inline(__always)
    public mutating func int64() throws(BinaryDecodingError) -> Int64 {
        let v = try varint()
        return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
    }

    /// Reads an `Int`.
    public mutating func int() throws(BinaryDecodingError) -> Int { Int(truncatingIfNeeded: try int64()) }

    /// Reads one byte.
    @inline(__always)
    public mutating func byte() throws(BinaryDecodingError) -> UInt8 {
        guard offset < bytes.count else { throw BinaryDecodingError("truncated at byte \(offset)") }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// Reads a Boolean.
    public mutating func bool() throws(BinaryDecodingError) -> Bool { try byte() != 0 }

    /// Reads a length-prefixed string.
    public mutating func string() throws(BinaryDecodingError) -> String {
        let count = Int(truncatingIfNeeded: try varint())
        guard count >= 0, count <= bytes.count - offset else { throw BinaryDecodingError("string of \(count) bytes overruns at \(offset)") }
        let s = String(decoding: bytes[offset..<(offset + count)], as: UTF8.self)
        offset += count
        return s
    }

    /// Reads an optional string.
    public mutating func optionalString() throws(BinaryDecodingError) -> String? {
        try byte() == 0 ? nil : try string()
    }

    /// Reads a length-prefixed blob.
    public mutating func blob() throws(BinaryDecodingError) -> [UInt8] {
        let count = Int(truncatingIfNeeded: try varint())
        guard count >= 0, count <= bytes.count - offset else { throw BinaryDecodingError("blob of \(count) bytes overruns at \(offset)") }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    /// Reads a double.
    public mutating func double() throws(BinaryDecodingError) -> Double {
        guard bytes.count - offset >= 8 else { throw BinaryDecodingError("truncated double at \(offset)") }
        var bits: UInt64 = 0
        for i in 0..<8 { bits |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        offset += 8
        return Double(bitPattern: bits)
    }

    /// Reads a UUID.
    public mutating func uuid() throws(BinaryDecodingError) -> UUID {
        guard bytes.count - offset >= 16 else { throw BinaryDecodingError("truncated UUID at \(offset)") }
        let b = bytes
        let o = offset
        offset += 16
        return UUID(uuid: (b[o], b[o + 1], b[o + 2], b[o + 3], b[o + 4], b[o + 5], b[o + 6], b[o + 7],
                           b[o + 8], b[o + 9], b[o + 10], b[o + 11], b[o + 12], b[o + 13], b[o + 14], b[o + 15]))
    }

    /// Reads an optional UUID.
    public mutating func optionalUUID() throws(BinaryDecodingError) -> UUID? {
        try byte() == 0 ? nil : try uuid()
    }

    /// Reads an instant.
    public mutating func timestamp() throws(BinaryDecodingError) -> Timestamp {
        let seconds = try int64()
        let nanos = try varint()
        guard nanos < 1_000_000_000, let t = Timestamp(secondsSinceEpoch: seconds, nanoseconds: Int32(nanos)) else {
            throw BinaryDecodingError("instant out of range at \(offset)")
        }
        return t
    }

    /// Reads an optional instant.
    public mutating func optionalTimestamp() throws(BinaryDecodingError) -> Timestamp? {
        try byte() == 0 ? nil : try timestamp()
    }

    /// Reads a calendar date.
    public mutating func date() throws(BinaryDecodingError) -> CalendarDate {
        let days = try int64()
        guard let date = CalendarDate(daysSinceEpoch: Int(truncatingIfNeeded: days)) else {
            throw BinaryDecodingError("date out of range at \(offset)")
        }
        return date
    }

    /// Reads an optional calendar date.
    public mutating func optionalDate() throws(BinaryDecodingError) -> CalendarDate? {
        try byte() == 0 ? nil : try date()
    }

    /// Reads a catalogue code.
    public mutating func code<C: RawRepresentable>(_ type: C.Type = C.self) throws(BinaryDecodingError) -> C where C.RawValue == String {
        let raw = try string()
        guard let value = C(rawValue: raw) else { throw BinaryDecodingError("unknown \(C.self) '\(raw.prefix(40))' at \(offset)") }
        return value
    }

    /// Reads an optional catalogue code.
    public mutating func optionalCode<C: RawRepresentable>(_ type: C.Type = C.self) throws(BinaryDecodingError) -> C? where C.RawValue == String {
        try byte() == 0 ? nil : try code(C.self)
    }
}
