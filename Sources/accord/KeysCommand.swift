import AccordEvents
import AccordIntegrity
import ArgumentParser
import Foundation

/// `accord keys`: agencies' Ed25519 signing keys and the public key registry (`schemas/integrity.md` §5).
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Create agency signing keys and build the public key registry the projector and auditors trust.",
        discussion: """
        A key file is private (mode 0600): give it to the agency's service with --signing-key. \
        The registry holds public keys only: give it to the projector (--key-registry) and to auditors.
        """,
        subcommands: [Generate.self, Registry.self])

    /// `accord keys generate`: a new key file, and its registry entry on stdout.
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate a signing key file (mode 0600) and print its public key registry entry as JSON.")

        @Option(help: ArgumentHelp("The signer: the agency's source URN, e.g. urn:accord:probation:nps-london (or a projector URN).", valueName: "urn"))
        var source: String

        @Option(help: ArgumentHelp("The key file to write; an existing file is never overwritten.", valueName: "file"))
        var out: String

        @Option(help: ArgumentHelp("validFrom of the printed entry (RFC 3339); default now.", valueName: "instant"))
        var validFrom: String?

        func validate() throws {
            if let validFrom, Timestamp(rfc3339: validFrom) == nil {
                throw ValidationError("--valid-from must be an RFC 3339 date-time such as 2025-04-01T00:00:00Z, got '\(validFrom)'")
            }
        }

        func run() throws {
            guard let key = AgencySigningKey.generate(signer: source) else {
                throw ValidationError("--source must be an urn:accord: URN of printable ASCII, such as urn:accord:probation:nps-london; got '\(source)'")
            }
            guard !FileManager.default.fileExists(atPath: out) else {
                throw ValidationError("\(out) already exists; a key file is never overwritten (move it away or choose another --out)")
            }
            try key.write(toFile: out)
            let from = validFrom.flatMap(Timestamp.init(rfc3339:)) ?? KeyFiles.modificationTime(of: out)
            print(try KeyFiles.json(key.registryEntry(validFrom: from)))
        }
    }

    /// `accord keys registry`: the public key registry of several key files.
    struct Registry: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build a key registry JSON from key files (public keys only).",
            discussion: """
            Each entry's validFrom is --valid-from when given, otherwise its key file's modification time \
            (when `accord keys generate` or a service created it). validUntil is left open.
            """)

        @Argument(help: ArgumentHelp("Key files (accord-signing-key-v1).", valueName: "key-file"))
        var keyFiles: [String]

        @Option(help: ArgumentHelp("The registry file to write.", valueName: "file"))
        var out: String

        @Option(help: ArgumentHelp("validFrom of every entry (RFC 3339); default each key file's modification time.", valueName: "instant"))
        var validFrom: String?

        func validate() throws {
            guard !keyFiles.isEmpty else { throw ValidationError("give at least one key file") }
            if let validFrom, Timestamp(rfc3339: validFrom) == nil {
                throw ValidationError("--valid-from must be an RFC 3339 date-time such as 2025-04-01T00:00:00Z, got '\(validFrom)'")
            }
        }

        func run() throws {
            let fixed = validFrom.flatMap(Timestamp.init(rfc3339:))
            var entries: [RegisteredKey] = []
            for path in keyFiles {
                let key: AgencySigningKey
                do {
                    key = try AgencySigningKey(contentsOfFile: path)
                } catch {
                    throw ValidationError("\(path): \(error)")
                }
                entries.append(key.registryEntry(validFrom: fixed ?? KeyFiles.modificationTime(of: path)))
            }
            let registry: KeyRegistry
            do {
                registry = try KeyRegistry(keys: entries)
            } catch {
                throw ValidationError("the key files do not make a registry: \(error)")
            }
            try KeyFiles.write(registry, to: out)
            FileHandle.standardError.write(Data("wrote \(out) with \(entries.count) key(s): \(entries.map { "\($0.source) \($0.keyId)" }.joined(separator: ", "))\n".utf8))
        }
    }
}

/// Helpers shared by `accord keys` and `accord demo`.
enum KeyFiles {
    /// A file's modification time in whole seconds (now when unreadable).
    static func modificationTime(of path: String) -> Timestamp {
        let date = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date ?? Date()
        return wholeSeconds(date)
    }

    /// The instant `date`, truncated to whole seconds.
    static func wholeSeconds(_ date: Date) -> Timestamp {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        return Timestamp(secondsSinceEpoch: seconds) ?? EventSamples.defaultStart
    }

    /// Pretty JSON of a registry entry, keys sorted.
    static func json(_ entry: RegisteredKey) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
        return String(decoding: try encoder.encode(entry), as: UTF8.self)
    }

    /// Writes the registry JSON to `path`.
    static func write(_ registry: KeyRegistry, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(registry.jsonBytes() + Array("\n".utf8))) else {
            throw ValidationError("cannot write \(path)")
        }
    }
}
