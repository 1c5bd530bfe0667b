import Foundation

/// Text rules shared by every canonical byte form in `schemas/integrity.md`.
enum Canonical {
    /// A signer or source URN: `urn:accord:` followed by printable ASCII without spaces, at most 128 bytes in all.
    static func isSigner(_ s: String) -> Bool {
        s.hasPrefix("urn:accord:") && isToken(s) && s.utf8.count > 11
    }

    /// 1–128 printable ASCII characters (0x21–0x7E).
    static func isToken(_ s: String) -> Bool {
        let u = s.utf8
        guard (1...128).contains(u.count) else { return false }
        for c in u where c < 33 || c > 126 { return false }
        return true
    }

    /// A Kafka topic name: 1–249 of `[A-Za-z0-9._-]`.
    static func isTopic(_ s: String) -> Bool {
        let u = s.utf8
        guard (1...249).contains(u.count) else { return false }
        for c in u {
            switch c {
            case 48...57, 65...90, 97...122, 46, 95, 45: continue
            default: return false
            }
        }
        return true
    }

    /// A key id: exactly 16 lower-case hexadecimal digits.
    static func isKeyId(_ s: String) -> Bool {
        let u = s.utf8
        guard u.count == 16 else { return false }
        return u.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// Standard base64 (RFC 4648 §4, with padding) decoded to exactly `count` bytes.
    static func base64(_ text: String, count: Int) -> [UInt8]? {
        guard let data = Data(base64Encoded: text), data.count == count,
              data.base64EncodedString() == text else { return nil }
        return Array(data)
    }

    /// Standard base64 with padding.
    static func base64(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
    }

    /// Appends `name=value\n`.
    static func line(_ name: String, _ value: String, to out: inout [UInt8]) {
        out.append(contentsOf: name.utf8)
        out.append(UInt8(ascii: "="))
        out.append(contentsOf: value.utf8)
        out.append(UInt8(ascii: "\n"))
    }

    /// Renders a decoding failure as `field: message` with the JSON path of the failure.
    static func render(_ error: any Error, context: String) -> IntegrityError {
        guard let error = error as? DecodingError else {
            return IntegrityError(.malformed, field: context, "\(error)")
        }
        func path(_ codingPath: [any CodingKey]) -> String {
            var out = context
            for key in codingPath {
                if let i = key.intValue { out += "[\(i)]" } else { out += (out.isEmpty ? "" : ".") + key.stringValue }
            }
            return out
        }
        switch error {
        case .dataCorrupted(let c):
            if c.codingPath.isEmpty {
                return IntegrityError(.malformed, field: context, "not well-formed JSON")
            }
            return IntegrityError(.invalidValue, field: path(c.codingPath), c.debugDescription)
        case .keyNotFound(let key, let c):
            return IntegrityError(.missing, field: path(c.codingPath + [key]), "missing required field")
        case .typeMismatch(let type, let c):
            return IntegrityError(.invalidValue, field: path(c.codingPath), "expected \(type)")
        case .valueNotFound(let type, let c):
            return IntegrityError(.missing, field: path(c.codingPath), "expected \(type), found null")
        @unknown default:
            return IntegrityError(.malformed, field: context, "\(error)")
        }
    }
}
