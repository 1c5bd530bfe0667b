import AccordEvents
import Foundation

/// Where a service reads "now" from: the wall clock in production, a fixed or stepped clock in tests.
public struct ServiceClock: Sendable {
    /// Returns the current instant.
    public let now: @Sendable () -> Timestamp

    /// Creates a clock from a function.
    public init(now: @escaping @Sendable () -> Timestamp) {
        self.now = now
    }

    /// The system wall clock.
    public static let system = ServiceClock {
        let interval = Date().timeIntervalSince1970
        let seconds = interval.rounded(.down)
        let nanoseconds = Int32(clamping: Int64(((interval - seconds) * 1_000_000_000).rounded(.down)))
        return Timestamp(secondsSinceEpoch: Int64(seconds), nanoseconds: min(max(nanoseconds, 0), 999_999_999))
            ?? Timestamp(startOf: EventSamples.defaultDate)
    }

    /// A clock that always reads `instant`.
    public static func fixed(_ instant: Timestamp) -> ServiceClock {
        ServiceClock { instant }
    }
}
