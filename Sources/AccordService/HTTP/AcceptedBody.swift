/// The `202` body `{"accepted":[…]}` written directly as JSON bytes (keys sorted, `offset` left
/// out while unknown): the same document `JSONEncoder` with sorted keys writes, at a fraction of
/// its cost on the intake's hot path.
enum AcceptedBody {
    /// The body for `acknowledgements`, in order.
    static func encode(_ acknowledgements: [Acknowledgement]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32 + acknowledgements.count * 320)
        out.append(contentsOf: #"{"accepted":["#.utf8)
        for (index, ack) in acknowledgements.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"id":"#.utf8)
            string(ack.id, to: &out)
            if let offset = ack.offset {
                out.append(contentsOf: #","offset":"#.utf8)
                out.append(contentsOf: String(offset).utf8)
            }
            out.append(contentsOf: #","partition":"#.utf8)
            out.append(contentsOf: String(ack.partition).utf8)
            out.append(contentsOf: #","position":"#.utf8)
            out.append(contentsOf: String(ack.position).utf8)
            out.append(contentsOf: #","sequence":"#.utf8)
            out.append(contentsOf: String(ack.sequence).utf8)
            out.append(contentsOf: #","source":"#.utf8)
            string(ack.source, to: &out)
            out.append(contentsOf: #","subject":"#.utf8)
            string(ack.subject, to: &out)
            out.append(contentsOf: #","time":"#.utf8)
            string(ack.time, to: &out)
            out.append(contentsOf: #","topic":"#.utf8)
            string(ack.topic, to: &out)
            out.append(contentsOf: #","type":"#.utf8)
            string(ack.type, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: "]}".utf8)
        return out
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `text` as a JSON string: quotes, backslashes and control characters escaped.
    static func string(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x00..<0x20:
                out.append(contentsOf: Array(#"\u00"#.utf8))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
