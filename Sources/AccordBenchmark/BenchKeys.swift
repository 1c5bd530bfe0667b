import AccordEvents
import AccordIntegrity
import Foundation

/// The benchmark's agency signing keys (one per source, written as key files a service can load)
/// and the public key registry the projector and the audits are given.
public struct BenchKeys: Sendable {
    /// The folder holding the key files and the registry.
    public let folder: URL
    /// The registry JSON file.
    public let registry: URL
    private let keys: [String: AgencySigningKey]

    /// Generates a key for every source URN, writes each key file and a registry of them all, valid from now.
    public static func generate(sources: [String], in folder: URL) throws -> BenchKeys {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let validFrom = Timestamp(secondsSinceEpoch: Int64(Date().timeIntervalSince1970.rounded(.down)) - 1)
            ?? EventSamples.defaultStart
        var keys: [String: AgencySigningKey] = [:]
        var entries: [RegisteredKey] = []
        for source in Set(sources).sorted() {
            guard let key = AgencySigningKey.generate(signer: source) else {
                throw BenchError("cannot make a signing key for \(source)")
            }
            try key.write(toFile: Self.keyFile(source, in: folder).path)
            keys[source] = key
            entries.append(key.registryEntry(validFrom: validFrom))
        }
        let registry = folder.appendingPathComponent("registry.json")
        let bytes = try KeyRegistry(keys: entries).jsonBytes()
        guard FileManager.default.createFile(atPath: registry.path, contents: Data(bytes)) else {
            throw BenchError("cannot write \(registry.path)")
        }
        return BenchKeys(folder: folder, registry: registry, keys: keys)
    }

    /// The signing key of `source`, if one was generated.
    public func key(for source: String) -> AgencySigningKey? { keys[source] }

    /// The key file of `source` (for a service's `--signing-key`).
    public func keyFile(for source: String) -> URL { Self.keyFile(source, in: folder) }

    private static func keyFile(_ source: String, in folder: URL) -> URL {
        let name = source.replacingOccurrences(of: ":", with: "_")
        return folder.appendingPathComponent("\(name).signing-key.json")
    }
}
