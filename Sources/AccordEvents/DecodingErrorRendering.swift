/// Turns Swift `DecodingError`s into `EventError`s whose field is a readable JSON path
/// such as `data.requirements[0].hours`.
enum DecodingErrorRendering {
    /// Renders a coding path: `prefix.key[2].other`.
    static func path(_ codingPath: [any CodingKey], prefix: String) -> String {
        var out = prefix
        for key in codingPath {
            if let index = key.intValue, key.stringValue.hasPrefix("Index") || key.stringValue == String(index) {
                out += "[\(index)]"
            } else if out.isEmpty {
                out = key.stringValue
            } else {
                out += ".\(key.stringValue)"
            }
        }
        return out.isEmpty ? "(root)" : out
    }

    /// The JSON type name a Swift type is decoded from.
    static func jsonTypeName(_ type: Any.Type) -> String {
        if type == String.self { return "string" }
        if type == Bool.self { return "boolean" }
        if type == Int.self || type == Int64.self || type == Int32.self || type == UInt64.self || type == UInt.self {
            return "integer"
        }
        if type == Double.self || type == Float.self { return "number" }
        let name = String(describing: type)
        if name.hasPrefix("Array") || name.hasPrefix("[") || name.contains("UnkeyedDecodingContainer") { return "array" }
        if name.contains("Dictionary") || name.contains("KeyedDecodingContainer") { return "object" }
        return "\(name) value"
    }

    /// Best-effort name of the JSON type actually found, read from Foundation's message.
    static func foundName(_ debugDescription: String) -> String? {
        let d = debugDescription.lowercased()
        for (needle, name) in [("found a string", "string"), ("found a number", "number"),
                               ("found a dictionary", "object"), ("found an array", "array"),
                               ("found a bool", "boolean"), ("found null", "null"),
                               ("found a null", "null"), ("number <", "number"), ("number ", "number")] {
            if d.contains(needle) { return name }
        }
        return nil
    }

    /// Converts any error thrown while decoding JSON into an `EventError` under `prefix`
    /// (`data` for the payload, empty for top-level attributes).
    static func render(_ error: any Error, prefix: String) -> EventError {
        if let error = error as? EventError { return error }
        guard let error = error as? DecodingError else {
            return EventError(.malformed, field: prefix.isEmpty ? "(root)" : prefix, "could not decode: \(error)")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return EventError(.missingAttribute, field: path(context.codingPath + [key], prefix: prefix),
                              "missing required property")
        case .valueNotFound(let type, let context):
            return EventError(.wrongType, field: path(context.codingPath, prefix: prefix),
                              "expected \(jsonTypeName(type)), found null")
        case .typeMismatch(let type, let context):
            let expected = jsonTypeName(type)
            var found = foundName(context.debugDescription) ?? "another type"
            // Foundation reports a non-integral or out-of-range number for an Int as a mismatch.
            if expected == "integer", found == "number" { found = "a non-integer or out-of-range number" }
            return EventError(.wrongType, field: path(context.codingPath, prefix: prefix),
                              "expected \(expected), found \(found)")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return EventError(.malformed, field: prefix.isEmpty ? "(root)" : prefix,
                                  "not well-formed JSON: \(shortDescription(context))")
            }
            let field = path(context.codingPath, prefix: prefix)
            let message = context.debugDescription
            let reason: EventError.Reason = message.hasPrefix("invalid timestamp") ? .invalidTime : .invalidValue
            if message.contains("Parsed JSON number") || message.contains("does not fit") {
                return EventError(.wrongType, field: field, "expected integer, found a non-integer or out-of-range number")
            }
            return EventError(reason, field: field, message)
        @unknown default:
            return EventError(.malformed, field: prefix.isEmpty ? "(root)" : prefix, "could not decode: \(error)")
        }
    }

    private static func shortDescription(_ context: DecodingError.Context) -> String {
        var text = context.debugDescription
        if let underlying = context.underlyingError { text += " (\(underlying))" }
        return String(text.prefix(200))
    }
}

extension KeyedDecodingContainer {
    /// Decodes an integer, reporting a fractional or out-of-range number as a type mismatch
    /// at this key's path (Foundation alone reports it as path-less "not valid JSON").
    func decodeInteger<T: FixedWidthInteger & Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        do {
            return try decode(T.self, forKey: key)
        } catch let error as DecodingError {
            throw error
        } catch {
            // Foundation throws an internal "number is not representable" error here, which
            // the top-level decode would turn into a path-less "not valid JSON".
            throw DecodingError.typeMismatch(T.self, .init(
                codingPath: codingPath + [key], debugDescription: "found a non-integer or out-of-range number"))
        }
    }

    /// Optional variant of `decodeInteger`.
    func decodeIntegerIfPresent<T: FixedWidthInteger & Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard contains(key) else { return nil }
        if try decodeNil(forKey: key) { return nil }
        return try decodeInteger(T.self, forKey: key)
    }
}
