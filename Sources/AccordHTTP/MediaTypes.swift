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

    /// Whether a Content-Type value is plain JSON (`application/json` or a `+json` suffix other than CloudEvents).
    public static func isJSON(_ contentType: String) -> Bool {
        let essence = essence(contentType)
        return essence == json || (essence.hasPrefix("application/") && essence.hasSuffix("+json")
                                   && essence != cloudEvent && essence != cloudEventsBatch)
    }
}
