import Foundation

/// A small, fast, seeded pseudo-random generator (SplitMix64, Steele, Lea & Flood 2014).
///
/// The same seed always gives the same sequence on every platform, which is what makes a
/// simulated caseload reproducible. Not for cryptography.
public struct SplitMix64: RandomNumberGenerator, Sendable, Hashable {
    /// The generator's whole state.
    public private(set) var state: UInt64

    /// Creates a generator starting from `seed`.
    public init(seed: UInt64) {
        state = seed
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }

    /// The SplitMix64 finaliser: a bijective scramble of 64 bits.
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A generator for an independent stream, derived from `seed` and a stream number.
    public static func stream(seed: UInt64, _ stream: UInt64) -> SplitMix64 {
        SplitMix64(seed: mix(seed ^ mix(stream &+ 0x632B_E59B_D9B4_E019)))
    }
}

extension SplitMix64 {
    /// A uniform integer in `range` (bias below 2⁻³² for the small ranges used here).
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        let width = UInt64(range.upperBound - range.lowerBound) + 1
        let value = next().multipliedFullWidth(by: width).high
        return range.lowerBound + Int(value)
    }

    /// A uniform double in [0, 1).
    mutating func unit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool {
        unit() < p
    }

    /// One element of a non-empty array, uniformly.
    mutating func pick<T>(_ items: [T]) -> T {
        items[int(0...(items.count - 1))]
    }

    /// An index chosen with the given relative weights (all ≥ 0, at least one > 0).
    mutating func weighted(_ weights: [Double]) -> Int {
        let total = weights.reduce(0, +)
        var x = unit() * total
        for (i, w) in weights.enumerated() {
            if x < w { return i }
            x -= w
        }
        return weights.count - 1
    }
}
