import Foundation

/// The OpenAPI 3.1 document of the query API, kept in the repository as
/// `Sources/AccordProjector/Resources/openapi.json` and served at `/openapi.json`.
public enum OpenAPIDocument {
    /// The document's bytes.
    public static let bytes: [UInt8] = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"),
              let data = try? Data(contentsOf: url) else { return Array("{}".utf8) }
        return [UInt8](data)
    }()
}
