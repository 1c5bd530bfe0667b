import Foundation

/// Media types Accord's HTTP APIs speak.
public enum MediaTypes {
    /// `application/json`.
    public static let json = "application/json"
    /// `application/problem+json` (RFC 9457).
    public static let problem = "application/problem+json"
    /// `application/cloudevents+json` (structured mode, one event).
    public static let cloudEvent = "application/cloudevents+json"
    /// `application/cloudevents-batch+json` (structured mode, an array of events).
    public static let cloudEventsBatch = "application/cloudevents-batch+json"

    /// The essence (type/subtype, lower case, without parameters) of a Content-Type value.
    public static func essence(_ contentType: String) -> String {
        let base = contentType.split(separator: ";", maxSplits: 1).first.map(String.init) ?? contentType
        return base.trimmingCharacters(in: .whitespaces).lowercased()
    }

    /// The `charset` parameter of a Content-Type value, lower case and unquoted, if it has one.
    public static func charset(_ contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == "charset" else { continue }
            var value = pair[1].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                value = String(value.dropFirst().dropLast())
            }
            return value.lowercased()
        }
        return nil
    }

    /// Whether a Content-Type value declares no charset or UTF-8, the only one JSON allows (RFC 8259 §8.1).
    public static func isUTF8(_ contentType: String) -> Bool {
        guard let charset = charset(contentType) else { return true }
        return charset == "utf-8" || charset == "utf8"
    }

    /// Whether a Content-Type value is plain JSON (`application/json` or a `+json` suffix other than CloudEvents).
    public static func isJSON(_ contentType: String) -> Bool {
        let essence = essence(contentType)
        return essence == json || (essence.hasPrefix("application/") && essence.hasSuffix("+json")
                                   && essence != cloudEvent && essence != cloudEventsBatch)
    }
}
