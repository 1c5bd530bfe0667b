import AccordEvents
import Crypto
import Foundation

/// An Ed25519 signing key of one signer: an agency service (signer = its source URN, e.g.
/// `urn:accord:probation:nps-london`) or a projector (e.g. `urn:accord:projector:main`).
///
/// Stored as a small JSON file (`schemas/integrity.md` §5):
/// `{"format":"accord-signing-key-v1","signer":…,"keyId":…,"publicKey":…,"privateKey":…}`,
/// keys in base64 of their raw 32 bytes. Keep the file private (mode 0600).
public struct AgencySigningKey: Sendable {
    /// The `format` value of the key file.
    public static let fileFormat = "accord-signing-key-v1"

    /// Who signs with this key: a source URN or the projector's URN.
    public let signer: String
    /// The raw 32-byte Ed25519 private key (seed). Secret.
    public let privateKeyBytes: [UInt8]
    /// The raw 32-byte public key.
    public let publicKeyBytes: [UInt8]

    /// Creates a key from its private key; nil when `signer` is not an `urn:accord:` URN of printable ASCII.
    public init?(signer: String, privateKey: Curve25519.Signing.PrivateKey) {
        guard Canonical.isSigner(signer) else { return nil }
        self.signer = signer
        self.privateKeyBytes = Array(privateKey.rawRepresentation)
        self.publicKeyBytes = Array(privateKey.publicKey.rawRepresentation)
    }

    /// Creates a key from the raw 32-byte private key; nil when the bytes or `signer` are not valid.
    public init?(signer: String, privateKeyBytes: [UInt8]) {
        guard privateKeyBytes.count == 32,
              let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: privateKeyBytes) else { return nil }
        self.init(signer: signer, privateKey: key)
    }

    /// Generates a fresh random key; nil when `signer` is not an `urn:accord:` URN of printable ASCII.
    public static func generate(signer: String) -> AgencySigningKey? {
        AgencySigningKey(signer: signer, privateKey: Curve25519.Signing.PrivateKey())
    }

    /// The key id: the first 16 lower-case hexadecimal digits of SHA-256 of the raw public key.
    public var keyId: String { AgencySigningKey.keyId(publicKey: publicKeyBytes) }

    /// The key id of a raw public key.
    public static func keyId(publicKey: [UInt8]) -> String {
        String(Hash256.sha256(publicKey).hex.prefix(16))
    }

    /// Signs `bytes`; returns the 64-byte Ed25519 signature in base64.
    public func sign(_ bytes: [UInt8]) throws(IntegrityError) -> String {
        do {
            let key = try Curve25519.Signing.PrivateKey(rawRepresentation: privateKeyBytes)
            return Canonical.base64(Array(try key.signature(for: bytes)))
        } catch {
            throw IntegrityError(.keyFailure, field: "signature", "Ed25519 signing failed: \(error)")
        }
    }

    /// This key's registry entry with the given validity window.
    public func registryEntry(validFrom: Timestamp, validUntil: Timestamp? = nil) -> RegisteredKey {
        RegisteredKey(checkedSource: signer, keyId: keyId, publicKey: publicKeyBytes,
                      validFrom: validFrom, validUntil: validUntil)
    }

    // MARK: - key file

    private struct File: Codable {
        var format: String
        var signer: String
        var keyId: String
        var publicKey: String
        var privateKey: String
    }

    /// The key file JSON (keys sorted, one line).
    public func fileBytes() -> [UInt8] {
        let file = File(format: Self.fileFormat, signer: signer, keyId: keyId,
                        publicKey: Canonical.base64(publicKeyBytes),
                        privateKey: Canonical.base64(privateKeyBytes))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding five strings cannot fail.
        return (try? Array(encoder.encode(file))) ?? []
    }

    /// Reads a key file's JSON, checking the format, the signer, and that `publicKey` and `keyId`
    /// belong to `privateKey`.
    public init(fileBytes bytes: [UInt8]) throws(IntegrityError) {
        guard bytes.count <= 4096 else {
            throw IntegrityError(.tooLarge, field: "key file", "\(bytes.count) bytes; a key file is under 4096")
        }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: Data(bytes))
        } catch {
            throw Canonical.render(error, context: "key file")
        }
        guard file.format == Self.fileFormat else {
            throw IntegrityError(.invalidValue, field: "format", "\"\(file.format.prefix(40))\" is not \(Self.fileFormat)")
        }
        guard let raw = Canonical.base64(file.privateKey, count: 32),
              let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw) else {
            throw IntegrityError(.invalidValue, field: "privateKey", "expected base64 of 32 bytes")
        }
        guard let made = AgencySigningKey(signer: file.signer, privateKey: key) else {
            throw IntegrityError(.invalidValue, field: "signer",
                                 "\"\(file.signer.prefix(80))\" is not an urn:accord: URN of printable ASCII")
        }
        guard Canonical.base64(file.publicKey, count: 32) == made.publicKeyBytes else {
            throw IntegrityError(.invalidValue, field: "publicKey", "does not belong to privateKey")
        }
        guard file.keyId == made.keyId else {
            throw IntegrityError(.invalidValue, field: "keyId", "\(file.keyId.prefix(40)) is not the id of this key; expected \(made.keyId)")
        }
        self = made
    }

    /// Loads a key file.
    public init(contentsOfFile path: String) throws(IntegrityError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw IntegrityError(.fileFailure, field: path, "cannot read the key file")
        }
        try self.init(fileBytes: Array(data))
    }

    /// Writes the key file, readable by its owner only (mode 0600).
    public func write(toFile path: String) throws(IntegrityError) {
        guard FileManager.default.createFile(atPath: path, contents: Data(fileBytes()),
                                             attributes: [.posixPermissions: 0o600]) else {
            throw IntegrityError(.fileFailure, field: path, "cannot write the key file")
        }
    }
}

/// One public key in a `KeyRegistry`: whose it is and when it may sign.
public struct RegisteredKey: Sendable, Hashable, Codable {
    /// The signer: an agency source URN or a projector URN.
    public let source: String
    /// The key id (first 16 hex digits of SHA-256 of `publicKey`).
    public let keyId: String
    /// The raw 32-byte Ed25519 public key (base64 in JSON).
    public let publicKey: [UInt8]
    /// The first instant the key may sign at (inclusive).
    public let validFrom: Timestamp
    /// The instant from which the key may no longer sign (exclusive); nil for open-ended.
    public let validUntil: Timestamp?

    /// Creates an entry, checking the source, the key length, the key id and the window.
    public init(source: String, publicKey: [UInt8], validFrom: Timestamp, validUntil: Timestamp? = nil) throws(IntegrityError) {
        guard Canonical.isSigner(source) else {
            throw IntegrityError(.invalidValue, field: "source", "\"\(source.prefix(80))\" is not an urn:accord: URN of printable ASCII")
        }
        guard publicKey.count == 32, (try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey)) != nil else {
            throw IntegrityError(.invalidValue, field: "publicKey", "expected a raw 32-byte Ed25519 public key")
        }
        if let validUntil, validUntil <= validFrom {
            throw IntegrityError(.invalidValue, field: "validUntil", "\(validUntil) is not after validFrom \(validFrom)")
        }
        self.init(checkedSource: source, keyId: AgencySigningKey.keyId(publicKey: publicKey), publicKey: publicKey,
                  validFrom: validFrom, validUntil: validUntil)
    }

    init(checkedSource source: String, keyId: String, publicKey: [UInt8], validFrom: Timestamp, validUntil: Timestamp?) {
        self.source = source
        self.keyId = keyId
        self.publicKey = publicKey
        self.validFrom = validFrom
        self.validUntil = validUntil
    }

    /// Whether the key may sign at `instant`: `validFrom ≤ instant < validUntil`.
    public func isValid(at instant: Timestamp) -> Bool {
        instant >= validFrom && (validUntil.map { instant < $0 } ?? true)
    }

    /// The window as text, e.g. `2025-01-01T00:00:00Z..2026-01-01T00:00:00Z` (`…` when open-ended).
    public var windowDescription: String { "\(validFrom)..\(validUntil?.rfc3339 ?? "…")" }

    enum CodingKeys: String, CodingKey { case source, keyId, publicKey, validFrom, validUntil }

    /// Decodes and checks an entry; `keyId` must be the id of `publicKey`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let source = try c.decode(String.self, forKey: .source)
        let keyId = try c.decode(String.self, forKey: .keyId)
        let keyText = try c.decode(String.self, forKey: .publicKey)
        let validFrom = try c.decode(Timestamp.self, forKey: .validFrom)
        let validUntil = try c.decodeIfPresent(Timestamp.self, forKey: .validUntil)
        guard let raw = Canonical.base64(keyText, count: 32) else {
            throw DecodingError.dataCorruptedError(forKey: .publicKey, in: c, debugDescription: "expected base64 of a raw 32-byte Ed25519 public key")
        }
        do {
            try self.init(source: source, publicKey: raw, validFrom: validFrom, validUntil: validUntil)
        } catch {
            let key: CodingKeys = switch error.field {
            case "source": .source
            case "publicKey": .publicKey
            default: .validUntil
            }
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: error.message)
        }
        guard keyId == self.keyId else {
            throw DecodingError.dataCorruptedError(forKey: .keyId, in: c,
                                                   debugDescription: "\(keyId.prefix(40)) is not the id of publicKey; expected \(self.keyId)")
        }
    }

    /// Encodes the entry as in the registry file.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(source, forKey: .source)
        try c.encode(keyId, forKey: .keyId)
        try c.encode(Canonical.base64(publicKey), forKey: .publicKey)
        try c.encode(validFrom, forKey: .validFrom)
        try c.encodeIfPresent(validUntil, forKey: .validUntil)
    }
}

/// Why a signature was not accepted by a `KeyRegistry`.
public enum KeyRejection: Sendable, Hashable, CustomStringConvertible {
    /// No registered key has this id.
    case unknownKey(keyId: String)
    /// The key is registered to another signer.
    case keyOfOtherSigner(keyId: String, owner: String, claimed: String)
    /// The key's validity window does not contain the signing instant.
    case keyNotValid(keyId: String, at: Timestamp, window: String)
    /// The signature is not base64 of 64 bytes.
    case malformedSignature
    /// The signature does not verify with the key over the canonical bytes.
    case badSignature(keyId: String)

    /// A specific, human-readable reason.
    public var description: String {
        switch self {
        case .unknownKey(let id): "unknown key \(id): not in the key registry"
        case .keyOfOtherSigner(let id, let owner, let claimed): "key \(id) belongs to \(owner), not \(claimed)"
        case .keyNotValid(let id, let at, let window): "key \(id) is not valid at \(at) (valid \(window))"
        case .malformedSignature: "signature is not base64 of a 64-byte Ed25519 signature"
        case .badSignature(let id): "bad signature: does not verify with key \(id)"
        }
    }
}

/// The public keys a verifier trusts: several per signer, each with a validity window, so keys
/// can be rotated (add the new key, then close the old key's window).
///
/// JSON (`schemas/integrity.md` §5): `{"keys":[{"source","keyId","publicKey","validFrom","validUntil"?}]}`.
public struct KeyRegistry: Sendable, Hashable, Codable {
    /// Every registered key, in file order.
    public let keys: [RegisteredKey]
    private let byId: [String: RegisteredKey]
    private let signers: Set<String>

    /// Creates a registry; key ids must be unique.
    public init(keys: [RegisteredKey]) throws(IntegrityError) {
        var byId: [String: RegisteredKey] = [:]
        for (i, key) in keys.enumerated() {
            guard byId.updateValue(key, forKey: key.keyId) == nil else {
                throw IntegrityError(.invalidValue, field: "keys[\(i)].keyId", "key \(key.keyId) is registered twice")
            }
        }
        self.keys = keys
        self.byId = byId
        signers = Set(keys.map(\.source))
    }

    /// An empty registry: every signature is rejected as from an unknown key.
    public static let empty = KeyRegistry(uncheckedKeys: [])

    private init(uncheckedKeys: [RegisteredKey]) {
        keys = uncheckedKeys
        byId = [:]
        signers = []
    }

    /// Reads a registry's JSON, checking every entry.
    public init(jsonBytes bytes: [UInt8]) throws(IntegrityError) {
        do {
            self = try JSONDecoder().decode(KeyRegistry.self, from: Data(bytes))
        } catch let error as IntegrityError {
            throw error
        } catch {
            throw Canonical.render(error, context: "")
        }
    }

    /// The registry JSON, keys sorted.
    public func jsonBytes() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
        return (try? Array(encoder.encode(self))) ?? []
    }

    enum CodingKeys: String, CodingKey { case keys }

    /// Decodes `{"keys":[…]}`; key ids must be unique.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let keys = try c.decode([RegisteredKey].self, forKey: .keys)
        do {
            try self.init(keys: keys)
        } catch {
            throw DecodingError.dataCorruptedError(forKey: .keys, in: c, debugDescription: error.description)
        }
    }

    /// Encodes `{"keys":[…]}`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(keys, forKey: .keys)
    }

    /// Equal when the keys are equal.
    public static func == (lhs: KeyRegistry, rhs: KeyRegistry) -> Bool { lhs.keys == rhs.keys }

    /// Hashes the keys.
    public func hash(into hasher: inout Hasher) { hasher.combine(keys) }

    /// True when at least one key (in any validity window) is registered to `source`: only such
    /// sources may publish on the agency topics.
    public func hasKeys(for source: String) -> Bool { signers.contains(source) }

    /// The key registered under `keyId`, if any.
    public func key(id keyId: String) -> RegisteredKey? { byId[keyId] }

    /// The registry with one more key (key ids must stay unique).
    public func adding(_ key: RegisteredKey) throws(IntegrityError) -> KeyRegistry {
        try KeyRegistry(keys: keys + [key])
    }

    /// Verifies `signature` (base64) over `bytes` as made by `signer` with key `keyId` at `instant`:
    /// the key must exist, belong to `signer`, be valid at `instant`, and the signature must verify.
    public func verify(signature: String, over bytes: [UInt8], keyId: String, signer: String,
                       at instant: Timestamp) -> KeyRejection? {
        guard let key = byId[keyId] else { return .unknownKey(keyId: keyId) }
        guard key.source == signer else { return .keyOfOtherSigner(keyId: keyId, owner: key.source, claimed: signer) }
        guard key.isValid(at: instant) else { return .keyNotValid(keyId: keyId, at: instant, window: key.windowDescription) }
        guard let raw = Canonical.base64(signature, count: 64) else { return .malformedSignature }
        guard let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: key.publicKey),
              publicKey.isValidSignature(raw, for: bytes) else { return .badSignature(keyId: keyId) }
        return nil
    }
}
