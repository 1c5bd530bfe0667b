import Foundation

private let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

extension UUID {
    /// The canonical lower-case text form (`8-4-4-4-12`), written without Foundation's formatter.
    public var lowercasedString: String {
        withUnsafeBytes(of: uuid) { raw in
            String(unsafeUninitializedCapacity: 36) { out in
                var o = 0
                for i in 0..<16 {
                    if i == 4 || i == 6 || i == 8 || i == 10 {
                        out[o] = UInt8(ascii: "-")
                        o += 1
                    }
                    out[o] = hexDigits[Int(raw[i] >> 4)]
                    out[o + 1] = hexDigits[Int(raw[i] & 0x0f)]
                    o += 2
                }
                return o
            }
        }
    }
}
