import AccordEvents
import AccordIntegrity
import Foundation
import Logging

/// The projector's own Ed25519 key, which signs its journal checkpoints (`schemas/integrity.md` §7).
public enum ProjectorSigningKey {
    /// The default signer URN of a projector's key.
    public static let defaultSigner = "urn:accord:projector:main"

    /// Where the key file lives when not configured: next to the store.
    public static func defaultPath(store: String) -> String { store + ".projector-key.json" }

    /// Where the public registry entry is written: next to the store.
    public static func publicPath(store: String) -> String { store + ".projector-key.pub.json" }

    /// Loads the key file at `path`, or generates a key for `signer` and writes it (mode 0600)
    /// when there is none. Returns the key and whether it was created.
    public static func loadOrCreate(path: String, signer: String = defaultSigner) throws -> (key: AgencySigningKey, created: Bool) {
        if FileManager.default.fileExists(atPath: path) {
            return (try AgencySigningKey(contentsOfFile: path), false)
        }
        guard let key = AgencySigningKey.generate(signer: signer) else {
            throw IntegrityError(.keyFailure, field: "signer", "\(signer) is not an urn:accord: URN")
        }
        try key.write(toFile: path)
        return (key, true)
    }

    /// The key's public registry entry, valid from the key file's creation (to the second).
    public static func registryEntry(for key: AgencySigningKey, keyFile path: String) throws(IntegrityError) -> RegisteredKey {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let created = (attributes?[.creationDate] as? Date) ?? (attributes?[.modificationDate] as? Date) ?? Date()
        let seconds = Int64(created.timeIntervalSince1970.rounded(.down))
        guard let validFrom = Timestamp(secondsSinceEpoch: max(0, seconds)) else {
            throw IntegrityError(.keyFailure, field: path, "the key file's date is out of range")
        }
        return key.registryEntry(validFrom: validFrom)
    }

    /// Writes `{"keys":[entry]}` (a key registry with the projector's key) to `path`.
    public static func writePublic(_ entry: RegisteredKey, to path: String) throws {
        let registry = try KeyRegistry(keys: [entry])
        try Data(registry.jsonBytes()).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
