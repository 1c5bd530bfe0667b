import Hummingbird

/// The paths a server declares and the methods each takes, so a request with an undeclared
/// method on a known path is answered `405 Method Not Allowed` with `Allow`, not `404`.
/// Paths are written as for the router: segments starting with `:` match any one segment.
public struct RouteTable: Sendable {
    private let routes: [(segments: [Substring], methods: [HTTPRequest.Method])]

    /// A table of `(path, methods)` pairs (a path given twice takes the methods of both).
    public init(_ routes: [(path: String, methods: [HTTPRequest.Method])]) {
        var merged: [(segments: [Substring], methods: [HTTPRequest.Method])] = []
        for route in routes {
            let segments = route.path.split(separator: "/")
            if let i = merged.firstIndex(where: { $0.segments == segments }) {
                merged[i].methods += route.methods.filter { !merged[i].methods.contains($0) }
            } else {
                merged.append((segments, route.methods))
            }
        }
        self.routes = merged
    }

    /// The methods declared for `path` (empty when no declared path matches it). A path that
    /// takes GET also takes HEAD.
    public func methods(for path: String) -> [HTTPRequest.Method] {
        let parts = path.split(separator: "/")
        var out: [HTTPRequest.Method] = []
        for route in routes where route.segments.count == parts.count {
            let matches = zip(route.segments, parts).allSatisfy { pattern, part in pattern.hasPrefix(":") || pattern == part }
            if matches { out += route.methods.filter { !out.contains($0) } }
        }
        if out.contains(.get), !out.contains(.head) { out.append(.head) }
        return out
    }
}
