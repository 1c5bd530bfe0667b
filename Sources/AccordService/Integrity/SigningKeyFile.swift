import AccordEvents
import AccordIntegrity
import AccordRuntime
import Foundation

/// The agency's signing key as a file (`schemas/integrity.md` §5): loaded when it exists,
/// generated (mode 0600) when it does not.
public enum SigningKeyFile {
    /// The default key file of an agency: `<agency-id>.signing-key.json` in the working directory.
    public static func defaultPath(agencyId: String) -> String { "\(agencyId).signing-key.json" }

    /// A loaded or freshly generated key.
    public struct Loaded: Sendable {
        /// The key.
        public var key: AgencySigningKey
        /// True when the file did not exist and the key was generated and written.
        public var generated: Bool
        /// When the key may first sign: the file's modification time, whole seconds (when it was generated).
        public var validFrom: Timestamp
        /// Set when the existing file can be read by others than its owner.
        public var permissionWarning: String?
    }

    /// Loads the key file at `path`, or generates a key for `signer` and writes it there (mode 0600)
    /// when no file exists. The key's signer must be `signer`.
    public static func loadOrGenerate(path: String, signer: String) throws(ServiceSetupError) -> Loaded {
        let manager = FileManager.default
        var generated = false
        let key: AgencySigningKey
        if manager.fileExists(atPath: path) {
            do {
                key = try AgencySigningKey(contentsOfFile: path)
            } catch {
                throw ServiceSetupError("signing key file \(path) is not usable: \(error)")
            }
            guard key.signer == signer else {
                throw ServiceSetupError("signing key file \(path) is the key of \(key.signer), not of this service's source \(signer); pass --signing-key with this agency's key file")
            }
        } else {
            guard let fresh = AgencySigningKey.generate(signer: signer) else {
                throw ServiceSetupError("cannot generate a signing key for \(signer): not an urn:accord: URN")
            }
            do {
                let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
                try manager.createDirectory(at: folder, withIntermediateDirectories: true)
                try fresh.write(toFile: path)
            } catch {
                throw ServiceSetupError("cannot write the new signing key file \(path): \(error)")
            }
            key = fresh
            generated = true
        }
        let attributes = (try? manager.attributesOfItem(atPath: path)) ?? [:]
        var warning: String?
        if let mode = attributes[.posixPermissions] as? Int, mode & 0o077 != 0 {
            warning = "signing key file \(path) has mode \(String(mode, radix: 8)); it should be readable by its owner only (chmod 600)"
        }
        return Loaded(key: key, generated: generated, validFrom: modificationTime(attributes), permissionWarning: warning)
    }

    /// The modification time of the file at `path`, in whole seconds (now when it cannot be read).
    public static func modificationTime(of path: String) -> Timestamp {
        modificationTime((try? FileManager.default.attributesOfItem(atPath: path)) ?? [:])
    }

    private static func modificationTime(_ attributes: [FileAttributeKey: Any]) -> Timestamp {
        let date = attributes[.modificationDate] as? Date ?? Date()
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        return Timestamp(secondsSinceEpoch: seconds) ?? ServiceClock.system.now()
    }
}
