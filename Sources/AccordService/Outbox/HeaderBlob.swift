import AccordEvents

/// The compact byte form in which the outbox stores a record's headers, exactly as produced:
/// a 2-byte big-endian count, then per header a 2-byte name length, the UTF-8 name, a 4-byte
/// value length and the value bytes.
enum HeaderBlob {
    /// The stored form of `headers`.
    static func encode(_ headers: [MessageHeader]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(headers.reduce(2) { $0 + 6 + $1.name.utf8.count + $1.value.count })
        append(UInt32(headers.count), width: 2, to: &bytes)
        for header in headers {
            let name = header.name.utf8
            append(UInt32(name.count), width: 2, to: &bytes)
            bytes.append(contentsOf: name)
            append(UInt32(header.value.count), width: 4, to: &bytes)
            bytes.append(contentsOf: header.value)
        }
        return bytes
    }

    /// The headers of a stored form; nil when the bytes are not one.
    static func decode(_ bytes: [UInt8]) -> [MessageHeader]? {
        var index = 0
        func read(_ width: Int) -> Int? {
            guard index + width <= bytes.count else { return nil }
            var value = 0
            for offset in 0..<width { value = value << 8 | Int(bytes[index + offset]) }
            index += width
            return value
        }
        guard let count = read(2) else { return nil }
        var headers: [MessageHeader] = []
        headers.reserveCapacity(count)
        for _ in 0..<count {
            guard let nameLength = read(2), index + nameLength <= bytes.count else { return nil }
            let name = String(decoding: bytes[index..<(index + nameLength)], as: UTF8.self)
            index += nameLength
            guard let valueLength = read(4), index + valueLength <= bytes.count else { return nil }
            headers.append(MessageHeader(name: name, value: Array(bytes[index..<(index + valueLength)])))
            index += valueLength
        }
        return index == bytes.count ? headers : nil
    }

    private static func append(_ value: UInt32, width: Int, to bytes: inout [UInt8]) {
        for shift in stride(from: (width - 1) * 8, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift)))
        }
    }
}
