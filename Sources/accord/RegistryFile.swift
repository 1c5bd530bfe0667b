import AccordIntegrity
import Foundation

/// Reads a public-key registry file for the audit commands: a registry, or a single
/// registry entry (such as the projector's `<store>.projector-key.pub.json`).
enum RegistryFile {
    /// The registry at `path`, or a message saying what is wrong with it.
    static func read(_ path: String) -> Result<KeyRegistry, RegistryFileError> {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            return .failure(RegistryFileError("cannot read \(path): \(error.localizedDescription)"))
        }
        do {
            return .success(try KeyRegistry(jsonBytes: [UInt8](data)))
        } catch {
            if let entry = try? JSONDecoder().decode(RegisteredKey.self, from: data), let single = try? KeyRegistry(keys: [entry]) {
                return .success(single)
            }
            return .failure(RegistryFileError("\(path) is not a key registry: \(error)"))
        }
    }
}

/// Why a registry file could not be used.
struct RegistryFileError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
