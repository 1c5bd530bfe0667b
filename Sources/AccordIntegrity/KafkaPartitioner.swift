/// The partition a keyed record lands on, computed exactly as librdkafka's `murmur2` and
/// `murmur2_random` partitioners and the Java client's default partitioner do:
/// `(murmur2(key) & 0x7fffffff) % partitionCount`.
///
/// A producer uses this to know, before producing, which chain `(source, topic, partition)`
/// an event joins, so it can set `ce_prevhash` to that chain's head.
public enum KafkaPartitioner {
    /// The Java-compatible 32-bit MurmurHash2 of `key` (seed `0x9747b28c`), as the Java client's
    /// `Utils.murmur2` returns it (a signed `Int32`).
    public static func murmur2Hash(_ key: some Collection<UInt8>) -> Int32 {
        let m: UInt32 = 0x5bd1_e995
        let r: UInt32 = 24
        let length = key.count
        var h: UInt32 = 0x9747_b28c ^ UInt32(truncatingIfNeeded: length)
        var block: UInt32 = 0
        var inBlock = 0
        var tail: [UInt8] = []
        let fullBlocks = length / 4 * 4
        var index = 0
        for byte in key {
            if index < fullBlocks {
                block |= UInt32(byte) << UInt32(8 * inBlock)
                inBlock += 1
                if inBlock == 4 {
                    var k = block
                    k = k &* m
                    k ^= k >> r
                    k = k &* m
                    h = h &* m
                    h ^= k
                    block = 0
                    inBlock = 0
                }
            } else {
                tail.append(byte)
            }
            index += 1
        }
        switch tail.count {
        case 3:
            h ^= UInt32(tail[2]) << 16
            h ^= UInt32(tail[1]) << 8
            h ^= UInt32(tail[0])
            h = h &* m
        case 2:
            h ^= UInt32(tail[1]) << 8
            h ^= UInt32(tail[0])
            h = h &* m
        case 1:
            h ^= UInt32(tail[0])
            h = h &* m
        default:
            break
        }
        h ^= h >> 13
        h = h &* m
        h ^= h >> 15
        return Int32(bitPattern: h)
    }

    /// The partition of `key` among `partitions` partitions: `(murmur2(key) & 0x7fffffff) % partitions`.
    /// Nil when `partitions` is not positive.
    public static func murmur2(key: some Collection<UInt8>, partitions: Int32) -> Int32? {
        guard partitions > 0 else { return nil }
        return (murmur2Hash(key) & 0x7fff_ffff) % partitions
    }

    /// The partition of a text key (its UTF-8 bytes), e.g. a case id; nil when `partitions` is not positive.
    public static func murmur2(key: String, partitions: Int32) -> Int32? {
        murmur2(key: Array(key.utf8), partitions: partitions)
    }
}
