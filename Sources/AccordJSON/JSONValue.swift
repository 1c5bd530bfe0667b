/// A JSON value that remembers where it sits in the bytes it was parsed from, so a caller can
/// hand a member's exact bytes on (an event's `data`) or point at it in an error message.
///
/// Objects keep their members in document order, duplicates included, so callers decide what a
/// repeated name means. Strings are unescaped. Numbers are checked against the RFC 8259 grammar
/// but kept as written, so big or precise values lose nothing.
///
/// Values built in code (rather than parsed) have no position: their `range` defaults to `0..<0`.
/// Equality and hashing include ranges; compare ``compactBytes`` to compare content only.
public enum JSONValue: Sendable, Hashable {
    /// An object: its members in document order (duplicates kept).
    case object([JSONMember], range: Range<Int> = 0..<0)
    /// An array: its elements in order.
    case array([JSONValue], range: Range<Int> = 0..<0)
    /// A string, unescaped.
    case string(String, range: Range<Int> = 0..<0)
    /// A number, exactly as written (for example `-1.5e3` or `12345678901234567890`).
    case number(String, range: Range<Int> = 0..<0)
    /// `true` or `false`.
    case bool(Bool, range: Range<Int> = 0..<0)
    /// `null`.
    case null(range: Range<Int> = 0..<0)

    /// The byte range of this value in the parsed input (`0..<0` for a value built in code).
    public var range: Range<Int> {
        switch self {
        case .object(_, let range), .array(_, let range), .string(_, let range),
             .number(_, let range), .bool(_, let range), .null(let range):
            range
        }
    }

    /// The JSON type name (`object`, `array`, `string`, `number`, `boolean`, `null`), for messages.
    public var typeName: String {
        switch self {
        case .object: "object"
        case .array: "array"
        case .string: "string"
        case .number: "number"
        case .bool: "boolean"
        case .null: "null"
        }
    }

    /// The value of the first member called `name`, if this is an object that has one.
    public subscript(name: String) -> JSONValue? {
        guard case .object(let members, _) = self else { return nil }
        return members.first { $0.name == name }?.value
    }
}

/// One `"name": value` member of a JSON object.
public struct JSONMember: Sendable, Hashable {
    /// The member name, unescaped.
    public var name: String
    /// The member value.
    public var value: JSONValue

    /// Creates a member.
    public init(name: String, value: JSONValue) {
        self.name = name
        self.value = value
    }
}

/// Why input is not well-formed JSON, and where: a byte offset and the 1-based line and column
/// (in bytes) it falls on.
public struct JSONSyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong.
    public var message: String
    /// Byte offset of the problem (an index into the parsed array or slice).
    public var offset: Int
    /// 1-based line of the problem, counted from the start of the parsed input.
    public var line: Int
    /// 1-based column of the problem, in bytes from the start of its line.
    public var column: Int

    /// Creates an error.
    public init(message: String, offset: Int, line: Int, column: Int) {
        self.message = message
        self.offset = offset
        self.line = line
        self.column = column
    }

    /// `line L, column C: message`.
    public var description: String { "line \(line), column \(column): \(message)" }
}

/// One element of a top-level JSON array, with where it starts.
public struct JSONArrayElement: Sendable, Hashable {
    /// The element.
    public var value: JSONValue
    /// 1-based line on which the element starts.
    public var line: Int
    /// 1-based column (in bytes) at which the element starts.
    public var column: Int

    /// Creates an element.
    public init(value: JSONValue, line: Int, column: Int) {
        self.value = value
        self.line = line
        self.column = column
    }

    /// The element's byte range in the parsed input.
    public var range: Range<Int> { value.range }
}
