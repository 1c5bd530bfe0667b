/// A benchmark step that could not be carried out or whose counts did not add up, with what was observed.
public struct BenchError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public let description: String

    /// Creates an error.
    public init(_ description: String) {
        self.description = description
    }
}
