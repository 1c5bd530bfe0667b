/// Parses JSON text (RFC 8259, strictly) into ``JSONValue`` trees that keep byte ranges.
///
/// Strict means: no trailing commas, no leading zeros, no comments, no single quotes, no
/// unescaped control characters in strings, no lone surrogates in `\u` escapes, and valid UTF-8
/// in strings. Duplicate member names are kept (see ``JSONValue/object(_:range:)``); rejecting
/// them is the caller's decision. A UTF-8 byte order mark at the start is skipped.
///
/// Nesting of arrays and objects is limited (`maxDepth`), so hostile input cannot exhaust the
/// stack. Errors are thrown as ``JSONSyntaxError`` with the offset, line and column of the problem.
public enum JSONDocument {
    /// The nesting limit used when none is given: 128 levels of arrays and objects.
    public static let defaultMaxDepth = 128

    /// Parses `bytes` as one JSON value, optionally surrounded by white space.
    ///
    /// - Parameters:
    ///   - bytes: UTF-8 JSON text.
    ///   - maxDepth: The deepest nesting of arrays and objects accepted (keep it modest: parsing recurses).
    /// - Returns: The value; ranges are indices into `bytes`.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(JSONSyntaxError) -> JSONValue {
        try parse(bytes[...], maxDepth: maxDepth)
    }

    /// Parses a slice as one JSON value, optionally surrounded by white space (an NDJSON line, a CSV cell).
    ///
    /// Ranges and error offsets are indices of the slice (and so of its base array); lines and
    /// columns are counted from the start of the slice.
    public static func parse(_ bytes: ArraySlice<UInt8>, maxDepth: Int = defaultMaxDepth) throws(JSONSyntaxError) -> JSONValue {
        try withParser(bytes, maxDepth: maxDepth) { (parser: inout JSONParser) throws(JSONSyntaxError) in
            try parser.document()
        }
    }

    /// Parses `bytes` as a JSON array and returns its elements, each with the line and column it
    /// starts on (for messages about one element of a bulk input).
    ///
    /// The whole array must be well-formed: on any syntax error nothing is returned.
    /// Input whose top-level value is not an array is a syntax error.
    public static func elements(ofArray bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(JSONSyntaxError) -> [JSONArrayElement] {
        try withParser(bytes[...], maxDepth: maxDepth) { (parser: inout JSONParser) throws(JSONSyntaxError) in
            try parser.topLevelArray()
        }
    }

    private static func withParser<T>(
        _ bytes: ArraySlice<UInt8>, maxDepth: Int,
        _ body: (inout JSONParser) throws(JSONSyntaxError) -> T
    ) throws(JSONSyntaxError) -> T {
        let result: Result<T, JSONSyntaxError> = bytes.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(buffer, base: bytes.startIndex, maxDepth: maxDepth)
            return Result { () throws(JSONSyntaxError) in try body(&parser) }
        }
        return try result.get()
    }
}
