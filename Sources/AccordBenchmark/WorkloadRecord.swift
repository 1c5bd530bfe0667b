/// One Kafka record of the benchmark workload — an event or a chain checkpoint — with its topic
/// and partition, stored compactly (one allocation per record).
public struct WorkloadRecord: Sendable {
    /// Index of the record's topic in ``Workload/topics``.
    public let topicIndex: Int
    /// The partition the record is produced to.
    public let partition: Int32
    /// Whether the record is a signed chain checkpoint rather than an event.
    public let isCheckpoint: Bool
    /// Key, header and value bytes together, as a consumer receives them (the record's raw size).
    public let rawBytes: Int
    /// key ‖ value ‖ headers, each header as u16 name length, name, u32 value length, value.
    private let packed: [UInt8]
    private let keyLength: Int
    private let valueLength: Int
    /// The number of headers.
    public let headerCount: Int

    /// Packs a record from its key, headers and value.
    public init(topicIndex: Int, partition: Int32, isCheckpoint: Bool, key: [UInt8],
                headers: [(name: [UInt8], value: [UInt8])], value: [UInt8]) {
        var packed: [UInt8] = []
        packed.reserveCapacity(key.count + value.count + headers.reduce(0) { $0 + $1.name.count + $1.value.count + 6 })
        packed.append(contentsOf: key)
        packed.append(contentsOf: value)
        var raw = key.count + value.count
        for header in headers {
            let nameCount = min(header.name.count, Int(UInt16.max))
            packed.append(UInt8(truncatingIfNeeded: nameCount))
            packed.append(UInt8(truncatingIfNeeded: nameCount >> 8))
            packed.append(contentsOf: header.name.prefix(nameCount))
            let valueCount = header.value.count
            for shift in stride(from: 0, to: 32, by: 8) { packed.append(UInt8(truncatingIfNeeded: valueCount >> shift)) }
            packed.append(contentsOf: header.value)
            raw += nameCount + valueCount
        }
        self.topicIndex = topicIndex
        self.partition = partition
        self.isCheckpoint = isCheckpoint
        self.rawBytes = raw
        self.packed = packed
        self.keyLength = key.count
        self.valueLength = value.count
        self.headerCount = headers.count
    }

    /// Calls `body` with the key, the value and the packed header section (all valid only inside `body`).
    public func withParts<R>(_ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer,
                                      _ headers: UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try packed.withUnsafeBytes { all in
            let key = UnsafeRawBufferPointer(rebasing: all[0..<keyLength])
            let value = UnsafeRawBufferPointer(rebasing: all[keyLength..<(keyLength + valueLength)])
            let headers = UnsafeRawBufferPointer(rebasing: all[(keyLength + valueLength)...])
            return try body(key, value, headers)
        }
    }

    /// Calls `body` with each header's name and value bytes, in order.
    public static func forEachHeader(in section: UnsafeRawBufferPointer,
                                     _ body: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Void) {
        var index = 0
        while index + 2 <= section.count {
            let nameCount = Int(section[index]) | Int(section[index + 1]) << 8
            index += 2
            guard index + nameCount + 4 <= section.count else { return }
            let name = UnsafeRawBufferPointer(rebasing: section[index..<(index + nameCount)])
            index += nameCount
            var valueCount = 0
            for byte in 0..<4 { valueCount |= Int(section[index + byte]) << (8 * byte) }
            index += 4
            guard index + valueCount <= section.count else { return }
            body(name, UnsafeRawBufferPointer(rebasing: section[index..<(index + valueCount)]))
            index += valueCount
        }
    }
}
