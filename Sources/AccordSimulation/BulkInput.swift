import AccordJSON
import Foundation

/// The shape of an `accord publish` input.
public enum BulkFormat: String, Sendable, Hashable, CaseIterable {
    /// One JSON submission object, or a JSON array of them.
    case json
    /// Newline-delimited JSON: one submission object per line.
    case ndjson
    /// CSV with a header row: `type`, optional `time`, `id`, `correlationid`, `causationid`,
    /// and the data fields (dotted names nest: `data.serviceLevels.referralResponseDays`).
    case csv

    /// The format for a file: by extension (`.ndjson`/`.jsonl`, `.csv`, `.json`), otherwise by
    /// content (a JSON document → json; `{`-lines → ndjson; anything else → csv).
    public static func detect(path: String?, content: [UInt8]) -> BulkFormat {
        if let path {
            let lower = path.lowercased()
            if lower.hasSuffix(".ndjson") || lower.hasSuffix(".jsonl") { return .ndjson }
            if lower.hasSuffix(".csv") { return .csv }
            if lower.hasSuffix(".json") { return .json }
        }
        let body = BulkInput.strippingBOM(content)
        guard let first = body.first(where: { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D) }) else { return .json }
        if first == UInt8(ascii: "[") { return .json }
        if first == UInt8(ascii: "{") {
            return (try? JSONDocument.parse(body, maxDepth: BulkInput.maxDepth)) != nil ? .json : .ndjson
        }
        return .csv
    }
}

/// One submission read from an input, as compact JSON, with the input line it starts on.
public struct BulkItem: Sendable, Hashable {
    /// 1-based line of the input where the submission starts (for CSV, the record's first line).
    public let line: Int
    /// The submission object as compact JSON (member order as written).
    public let json: [UInt8]
    /// Its `type` member.
    public let type: String
    /// Whether it has an `id` member.
    public let hasId: Bool

    /// Creates an item.
    public init(line: Int, json: [UInt8], type: String, hasId: Bool) {
        self.line = line
        self.json = json
        self.type = type
        self.hasId = hasId
    }

    /// The same item with `"id"` set to `id` as the first member, unless it already has one.
    /// Publishing with ids makes retries idempotent.
    public func withId(_ id: UUID) -> BulkItem {
        guard !hasId, json.first == UInt8(ascii: "{") else { return self }
        var out: [UInt8] = Array("{\"id\":".utf8)
        JSONValue.writeString(id.lowercasedString, to: &out)
        if json.count > 2 { out.append(UInt8(ascii: ",")) }
        out.append(contentsOf: json.dropFirst())
        return BulkItem(line: line, json: out, type: type, hasId: true)
    }
}

/// A problem with one line (or the header) of an input.
public struct BulkLineError: Error, Sendable, Hashable, CustomStringConvertible {
    /// 1-based input line.
    public let line: Int
    /// What is wrong.
    public let message: String

    /// Creates an error.
    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }

    /// `line N: message`.
    public var description: String { "line \(line): \(message)" }
}

/// An input parsed into submissions (in input order) and per-line errors. Pure: parses bytes
/// the caller has read; a bad line does not stop the rest from being read.
public struct BulkInput: Sendable, Hashable {
    /// The submissions that parsed, in input order.
    public var items: [BulkItem]
    /// Lines that could not be used, in input order.
    public var errors: [BulkLineError]

    /// Creates an input from parts.
    public init(items: [BulkItem] = [], errors: [BulkLineError] = []) {
        self.items = items
        self.errors = errors
    }

    /// Parses `bytes` in the given format.
    public static func parse(_ bytes: [UInt8], format: BulkFormat) -> BulkInput {
        let body = strippingBOM(bytes)
        switch format {
        case .json: return parseJSON(body)
        case .ndjson: return parseNDJSON(body)
        case .csv: return parseCSV(body)
        }
    }

    /// The deepest nesting of arrays and objects accepted in an input.
    static let maxDepth = 64

    static func strippingBOM(_ bytes: [UInt8]) -> [UInt8] {
        bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
    }

    /// Checks that a value is a submission object with a string `type`, and makes the item.
    private static func item(_ value: JSONValue, line: Int) -> Result<BulkItem, BulkLineError> {
        guard case .object = value else {
            return .failure(BulkLineError(line: line, message: "expected a JSON object (a submission with type and data)"))
        }
        guard let typeValue = value["type"] else {
            return .failure(BulkLineError(line: line, message: "missing \"type\""))
        }
        guard case .string(let type, _) = typeValue, !type.isEmpty else {
            return .failure(BulkLineError(line: line, message: "\"type\" must be a non-empty string"))
        }
        return .success(BulkItem(line: line, json: value.compactBytes, type: type, hasId: value["id"] != nil))
    }

    private mutating func add(_ result: Result<BulkItem, BulkLineError>) {
        switch result {
        case .success(let item): items.append(item)
        case .failure(let error): errors.append(error)
        }
    }

    // MARK: JSON

    private static func parseJSON(_ body: [UInt8]) -> BulkInput {
        var out = BulkInput()
        guard let first = body.firstIndex(where: { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D) }) else {
            return out
        }
        do {
            if body[first] == UInt8(ascii: "[") {
                for element in try JSONDocument.elements(ofArray: body, maxDepth: maxDepth) {
                    out.add(item(element.value, line: element.line))
                }
            } else {
                let line = body[..<first].count { $0 == 0x0A } + 1
                out.add(item(try JSONDocument.parse(body, maxDepth: maxDepth), line: line))
            }
        } catch {
            out.errors.append(BulkLineError(line: error.line, message: "invalid JSON: \(error.message)"))
        }
        return out
    }

    // MARK: NDJSON

    private static func parseNDJSON(_ body: [UInt8]) -> BulkInput {
        var out = BulkInput()
        var line = 0
        var start = 0
        while start <= body.count {
            let newline = body[start...].firstIndex(of: 0x0A) ?? body.count
            line += 1
            var stop = newline
            if stop > start && body[stop - 1] == 0x0D { stop -= 1 }
            let slice = body[start..<stop]
            if slice.contains(where: { !($0 == 0x20 || $0 == 0x09) }) {
                do {
                    out.add(item(try JSONDocument.parse(slice, maxDepth: maxDepth), line: line))
                } catch {
                    out.errors.append(BulkLineError(line: line, message: "invalid JSON at column \(error.column): \(error.message)"))
                }
            }
            start = newline + 1
        }
        return out
    }

    // MARK: CSV

    /// Envelope columns; every other column is a data field.
    static let envelopeColumns: Set<String> = ["type", "time", "id", "correlationid", "causationid"]

    private static func parseCSV(_ body: [UInt8]) -> BulkInput {
        var out = BulkInput()
        var reader = CSVReader(body)
        var header: [Column]?
        while true {
            let record: CSVReader.Record?
            do {
                record = try reader.next()
            } catch {
                out.errors.append(error)
                reader.skipRestOfLine()
                continue
            }
            guard let record else { break }
            if record.fields.count == 1 && record.fields[0].isEmpty { continue }
            guard let columns = header else {
                switch Column.header(record.fields, line: record.line) {
                case .success(let columns): header = columns
                case .failure(let error):
                    out.errors.append(error)
                    return out
                }
                continue
            }
            out.add(row(record, columns))
        }
        return out
    }

    private static func row(_ record: CSVReader.Record, _ columns: [Column]) -> Result<BulkItem, BulkLineError> {
        guard record.fields.count <= columns.count else {
            return .failure(BulkLineError(line: record.line,
                                          message: "\(record.fields.count) cells but the header has \(columns.count) columns"))
        }
        var envelope: [JSONMember] = []
        var data = JSONValue.object([])
        var hasData = false
        for (cell, column) in zip(record.fields, columns) where !cell.isEmpty {
            switch column {
            case .envelope(let name):
                envelope.append(JSONMember(name: name, value: .string(cell)))
            case .data(let path):
                let value = cellValue(cell)
                if path.isEmpty {
                    guard case .object(let members, _) = value else {
                        return .failure(BulkLineError(line: record.line, message: "the data column must hold a JSON object"))
                    }
                    for member in members { data = data.setting([member.name], to: member.value) }
                } else {
                    data = data.setting(path, to: value)
                }
                hasData = true
            }
        }
        if hasData { envelope.append(JSONMember(name: "data", value: data)) }
        return item(.object(envelope), line: record.line)
    }

    /// A cell's JSON value: numbers, booleans, arrays, objects and quoted JSON strings are used
    /// as such; anything else is the cell's text.
    static func cellValue(_ cell: String) -> JSONValue {
        let trimmed = cell.trimmingCharacters(in: .whitespaces)
        guard let first = trimmed.utf8.first else { return .string(cell) }
        let candidate = first == UInt8(ascii: "-") || (48...57).contains(first) || first == UInt8(ascii: "t")
            || first == UInt8(ascii: "f") || first == UInt8(ascii: "[") || first == UInt8(ascii: "{")
            || first == UInt8(ascii: "\"")
        guard candidate, let value = try? JSONDocument.parse(Array(trimmed.utf8), maxDepth: maxDepth) else { return .string(cell) }
        if case .null = value { return .string(cell) }
        return value
    }
}

/// What a CSV column maps to.
enum Column: Hashable {
    /// An envelope member such as `type`.
    case envelope(String)
    /// A path inside `data`; empty for a `data` column holding the whole object.
    case data([String])

    static func header(_ names: [String], line: Int) -> Result<[Column], BulkLineError> {
        var columns: [Column] = []
        var paths: [(String, [String])] = []
        var seen = Set<String>()
        for raw in names {
            let name = raw.trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else { return .failure(BulkLineError(line: line, message: "empty column name in the header")) }
            guard seen.insert(name).inserted else {
                return .failure(BulkLineError(line: line, message: "column \"\(name)\" appears twice"))
            }
            if BulkInput.envelopeColumns.contains(name) {
                columns.append(.envelope(name))
                continue
            }
            var path = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            if path.first == "data" { path.removeFirst() }
            guard !path.contains(where: \.isEmpty) else {
                return .failure(BulkLineError(line: line, message: "column \"\(name)\" has an empty part in its dotted name"))
            }
            for (other, otherPath) in paths where path.starts(with: otherPath) || otherPath.starts(with: path) {
                return .failure(BulkLineError(line: line, message: "columns \"\(other)\" and \"\(name)\" overlap"))
            }
            paths.append((name, path))
            columns.append(.data(path))
        }
        guard columns.contains(.envelope("type")) else {
            return .failure(BulkLineError(line: line, message: "the header needs a \"type\" column"))
        }
        return .success(columns)
    }
}

extension JSONValue {
    /// This object with the value at `path` set (creating objects on the way).
    func setting(_ path: [String], to value: JSONValue) -> JSONValue {
        guard let key = path.first else { return value }
        guard case .object(var members, _) = self else {
            return JSONValue.object([]).setting(path, to: value)
        }
        let rest = Array(path.dropFirst())
        if let i = members.firstIndex(where: { $0.name == key }) {
            members[i].value = members[i].value.setting(rest, to: value)
        } else {
            members.append(JSONMember(name: key, value: JSONValue.object([]).setting(rest, to: value)))
        }
        return .object(members)
    }
}

/// An RFC 4180 CSV reader: quoted fields with doubled quotes and line breaks, CRLF or LF.
struct CSVReader {
    struct Record {
        let line: Int
        let fields: [String]
    }

    private let bytes: [UInt8]
    private var index = 0
    private var line = 1

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func next() throws(BulkLineError) -> Record? {
        guard index < bytes.count else { return nil }
        let startLine = line
        var fields: [String] = []
        var field: [UInt8] = []
        var quoted = false
        var wasQuoted = false
        while index < bytes.count {
            let c = bytes[index]
            index += 1
            if quoted {
                if c == UInt8(ascii: "\"") {
                    if index < bytes.count && bytes[index] == UInt8(ascii: "\"") {
                        field.append(c)
                        index += 1
                    } else {
                        quoted = false
                    }
                } else {
                    if c == 0x0A { line += 1 }
                    field.append(c)
                }
                continue
            }
            switch c {
            case UInt8(ascii: ","):
                fields.append(try text(field, startLine))
                field = []
                wasQuoted = false
            case UInt8(ascii: "\""):
                guard field.isEmpty && !wasQuoted else {
                    throw BulkLineError(line: line, message: "a quote inside an unquoted CSV field; quote the whole field and double inner quotes")
                }
                quoted = true
                wasQuoted = true
            case 0x0A:
                line += 1
                fields.append(try text(field, startLine))
                return Record(line: startLine, fields: fields)
            case 0x0D where index < bytes.count && bytes[index] == 0x0A:
                continue
            default:
                if wasQuoted {
                    throw BulkLineError(line: line, message: "text after a closing quote in a CSV field")
                }
                field.append(c)
            }
        }
        if quoted { throw BulkLineError(line: startLine, message: "unterminated quoted CSV field") }
        fields.append(try text(field, startLine))
        return Record(line: startLine, fields: fields)
    }

    /// After an error: drops the rest of the current physical line.
    mutating func skipRestOfLine() {
        while index < bytes.count {
            let c = bytes[index]
            index += 1
            if c == 0x0A {
                line += 1
                return
            }
        }
    }

    private func text(_ field: [UInt8], _ line: Int) throws(BulkLineError) -> String {
        guard let s = String(validating: field, as: UTF8.self) else {
            throw BulkLineError(line: line, message: "CSV field is not valid UTF-8")
        }
        return s
    }
}
