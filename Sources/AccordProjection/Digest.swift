import AccordEvents
import Foundation

/// The whole accountability view at one instant: every case, flag, contract and area.
public struct ViewSnapshot: Codable, Sendable, Equatable {
    /// The instant described.
    public var asOf: Timestamp
    /// The knowledge cut-off, if any.
    public var knownAt: Timestamp?
    /// Every case view, by case id.
    public var cases: [CaseView]
    /// Every flag (open and resolved), sorted.
    public var flags: [Flag]
    /// Every contract's performance, by contract id.
    public var contracts: [ContractPerformance]
    /// Every area's summary, by area code.
    public var areas: [AreaSummary]
}

extension ProjectionState {
    /// The whole view at `asOf` (as known at `knownAt`).
    public func snapshot(asOf: Timestamp, knownAt: Timestamp? = nil) -> ViewSnapshot {
        let flags = computeFlags(asOf: asOf, knownAt: knownAt)
        var cases: [CaseView] = []
        for caseId in caseLogs.keys.sorted() {
            if let fold = caseFold(caseId, asOf: asOf, knownAt: knownAt) {
                cases.append(makeCaseView(fold, asOf: asOf, knownAt: knownAt))
            }
        }
        let contracts = allContractIds().compactMap { computeContractPerformance($0, asOf: asOf, knownAt: knownAt) }
        let areas = areas(asOf: asOf, knownAt: knownAt).map {
            computeAreaSummary($0, asOf: asOf, knownAt: knownAt, allFlags: flags)
        }
        return ViewSnapshot(asOf: asOf, knownAt: knownAt, cases: cases, flags: flags, contracts: contracts, areas: areas)
    }

    /// A stable 128-bit FNV-1a digest (32 lower-case hex digits) of the whole view at `asOf`,
    /// over its canonical JSON (sorted keys). Equal views give equal digests.
    public func digest(asOf: Timestamp, knownAt: Timestamp? = nil) -> String {
        ViewDigest.digest(of: snapshot(asOf: asOf, knownAt: knownAt))
    }
}

/// Canonical serialisation and hashing of view values.
public enum ViewDigest {
    /// The canonical JSON of a view value: sorted keys, no extra whitespace, non-finite numbers as strings.
    public static func canonicalJSON<T: Encodable>(_ value: T) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity",
                                                                      negativeInfinity: "-Infinity", nan: "NaN")
        return (try? encoder.encode(value)) ?? Data()
    }

    /// The FNV-1a 128 digest of a value's canonical JSON, as 32 hex digits.
    public static func digest<T: Encodable>(of value: T) -> String {
        fnv1a128(canonicalJSON(value))
    }

    /// FNV-1a with the 128-bit offset basis and prime, as 32 lower-case hex digits.
    public static func fnv1a128<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        var hi: UInt64 = 0x6c62_272e_07bb_0142
        var lo: UInt64 = 0x62b8_2175_6295_c58d
        let primeHi: UInt64 = 0x0000_0000_0100_0000
        let primeLo: UInt64 = 0x0000_0000_0000_013b
        for byte in bytes {
            lo ^= UInt64(byte)
            // (hi, lo) × (primeHi, primeLo) mod 2^128
            let (carry, low) = lo.multipliedFullWidth(by: primeLo)
            hi = hi &* primeLo &+ lo &* primeHi &+ carry
            lo = low
        }
        return hex(hi) + hex(lo)
    }

    private static func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
