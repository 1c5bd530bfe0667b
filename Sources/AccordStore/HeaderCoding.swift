import AccordEvents
import AccordProjection

/// The compact form of a record's headers in the journal: a count, then per header either a
/// one-byte code for one of the usual CloudEvents header names or 0 and the name, then the value
/// bytes. Lossless and order-preserving: the exact record can always be rebuilt and re-hashed.
enum HeaderCoding {
    /// Header names with a one-byte code (1-based). Never reorder; append only.
    static let knownNames: [String] = [
        "ce_specversion", "ce_id", "ce_source", "ce_type", "ce_subject", "ce_time", "ce_dataschema", "ce_sequence",
        "ce_partitionkey", "ce_causationid", "ce_correlationid", "ce_signature", "ce_prevhash", "content-type",
        "accord-record-kind", "accord-schema", "traceparent",
    ]
    private static let codes: [String: UInt8] = {
        var out: [String: UInt8] = [:]
        for (i, name) in knownNames.enumerated() { out[name] = UInt8(i + 1) }
        return out
    }()

    static func encode(_ headers: [MessageHeader]) -> [UInt8] {
        var w = BinaryWriter(capacity: 32 * headers.count + 8)
        w.varint(UInt64(headers.count))
        for header in headers {
            if let code = codes[header.name] {
                w.byte(code)
            } else {
                w.byte(0)
                w.string(header.name)
            }
            w.blob(header.value)
        }
        return w.bytes
    }

    static func decode(_ bytes: [UInt8]) throws(BinaryDecodingError) -> [MessageHeader] {
        var r = BinaryReader(bytes)
        let count = Int(truncatingIfNeeded: try r.varint())
        guard count >= 0, count <= 10_000 else { throw BinaryDecodingError("implausible header count \(count)") }
        var out: [MessageHeader] = []
        out.reserveCapacity(count)
        for _ in 0..<count {
            let code = try r.byte()
            let name: String
            if code == 0 {
                name = try r.string()
            } else {
                let index = Int(code) - 1
                guard index < knownNames.count else { throw BinaryDecodingError("unknown header code \(code)") }
                name = knownNames[index]
            }
            out.append(MessageHeader(name: name, value: try r.blob()))
        }
        return out
    }
}
