import AccordJSON

/// A text value read from a request, with the names that locate it for the client.
struct Located: Sendable {
    /// The value.
    var value: String
    /// The field name used in errors, e.g. `time` or `ce-time`.
    var field: String
    /// The RFC 6901 pointer into the request body ("" for a header).
    var pointer: String
}

/// One submission as read from JSON or from CloudEvents HTTP headers, before validation.
struct RawSubmission: Sendable {
    /// Position in the request.
    var index: Int
    /// The requested type (full CloudEvents type or short name).
    var type: Located?
    /// The raw JSON bytes of `data`.
    var data: [UInt8]?
    /// `data` as parsed with the request (structured mode); binary mode parses the body when
    /// the strict checks need it.
    var dataValue: JSONValue?
    /// Pointer into the body for the tokens of a path in the data (`["data", "hours"]`).
    let pointerToData: @Sendable (_ tokens: [String]) -> String
    /// Field name for the whole `data` when it is absent.
    var dataField: Located
    /// Optional attributes.
    var id: Located?
    var time: Located?
    var causationId: Located?
    var correlationId: Located?
    var recordedTime: Located?
    var source: Located?
    var specVersion: Located?
    var subject: Located?
    var dataSchema: Located?
    var dataContentType: Located?
    /// Set when the client supplied a `sequence` (which the service assigns itself).
    var sequence: Located?
    /// Structural problems already found while reading the item.
    var errors: [IntakeItemError] = []

    init(index: Int, dataField: Located, pointerToData: @escaping @Sendable (_ tokens: [String]) -> String) {
        self.index = index
        self.dataField = dataField
        self.pointerToData = pointerToData
    }

    /// Pointer into the body for a codec field such as `data.hours` (names the codec knows,
    /// which hold no `.` or `[`).
    func dataPointer(_ field: String) -> String { pointerToData(JSONPointer.tokens(ofField: field)) }

    /// Pointer into the body for a path in the data given as tokens (any member names).
    func dataPointer(tokens: [String]) -> String { pointerToData(tokens) }

    /// Records a problem with one located value.
    mutating func fail(_ located: Located, _ message: String, reason: String) {
        errors.append(IntakeItemError(index: index, pointer: located.pointer, field: located.field,
                                      message: message, reason: reason))
    }
}
