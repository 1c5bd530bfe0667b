import AccordJSON
import Testing

/// Parses text, failing the test on a syntax error.
func parse(_ text: String, maxDepth: Int = JSONDocument.defaultMaxDepth) throws -> JSONValue {
    try JSONDocument.parse(Array(text.utf8), maxDepth: maxDepth)
}

/// The syntax error parsing `bytes` throws, or nil when it parses.
func syntaxError(_ bytes: [UInt8], maxDepth: Int = JSONDocument.defaultMaxDepth) -> JSONSyntaxError? {
    do {
        _ = try JSONDocument.parse(bytes, maxDepth: maxDepth)
        return nil
    } catch {
        return error
    }
}

/// The syntax error parsing `text` throws, or nil when it parses.
func syntaxError(_ text: String, maxDepth: Int = JSONDocument.defaultMaxDepth) -> JSONSyntaxError? {
    syntaxError(Array(text.utf8), maxDepth: maxDepth)
}

/// Compact text of a value, as a string.
func compact(_ value: JSONValue) -> String {
    String(decoding: value.compactBytes, as: UTF8.self)
}
