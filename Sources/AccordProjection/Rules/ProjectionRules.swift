import AccordEvents
import AccordIntegrity
import Foundation

/// The thresholds that turn declared service levels into accountability flags.
///
/// Contract-specific service levels (response days, start days, minimum completion rate,
/// highest cleared risk level) come from the contract's own terms; the values here are the
/// fallbacks used when a referral names a contract that is not awarded in the view, plus the
/// partnership-wide thresholds that no contract declares. Load one JSON file with
/// `init(json:)`; keys left out keep their defaults.
///
/// What each threshold means, which rule uses it, how days are counted (24-hour periods from
/// the event time, UTC) and the rules themselves are specified for partners in
/// `docs/accountability-rules.md`.
public struct ProjectionRules: Codable, Sendable, Equatable {
    /// Days from case opening within which a practitioner must be allocated (`case-unallocated`).
    public var unallocatedDays: Int
    /// Fallback days a provider has to accept or decline a referral (`referral-unanswered`).
    public var referralResponseDays: Int
    /// Fallback days from referral within which an accepted intervention must start (`intervention-not-started`).
    public var startWithinDays: Int
    /// Days from a curfew violation, unacceptable absence or compliance failure within which
    /// probation must take an enforcement decision (`enforcement-decision-overdue`).
    public var enforcementDecisionDays: Int
    /// Fewest outcomes (or due referrals) before a contract rate is judged (`contract-below-service-level`).
    public var minimumOutcomesForRate: Int
    /// Fallback minimum completion rate, 0...1, for contracts not awarded in the view.
    public var minimumCompletionRate: Double
    /// Minimum share of referrals answered within the response limit, 0...1.
    public var minimumResponseRate: Double
    /// Minimum share of accepted referrals started within the start limit, 0...1 (reported, not flagged).
    public var minimumStartRate: Double
    /// Fallback highest risk level a provider is cleared for when its contract is not in the view.
    public var defaultMaxRiskLevel: RiskLevel

    /// Creates rules; every parameter defaults to the partnership default.
    public init(unallocatedDays: Int = 5, referralResponseDays: Int = 5, startWithinDays: Int = 10,
                enforcementDecisionDays: Int = 7, minimumOutcomesForRate: Int = 5,
                minimumCompletionRate: Double = 0.75, minimumResponseRate: Double = 0.9,
                minimumStartRate: Double = 0.9, defaultMaxRiskLevel: RiskLevel = .high) {
        self.unallocatedDays = unallocatedDays
        self.referralResponseDays = referralResponseDays
        self.startWithinDays = startWithinDays
        self.enforcementDecisionDays = enforcementDecisionDays
        self.minimumOutcomesForRate = minimumOutcomesForRate
        self.minimumCompletionRate = minimumCompletionRate
        self.minimumResponseRate = minimumResponseRate
        self.minimumStartRate = minimumStartRate
        self.defaultMaxRiskLevel = defaultMaxRiskLevel
    }

    /// Version of the rules' meaning in code (`docs/accountability-rules.md`). Bumped whenever a
    /// rule's definition changes, so views derived under the old meaning are rebuilt.
    public static let semanticsVersion = 3

    /// Identifies these thresholds and the rules' meaning: `v<semantics>-<16 hex digits of the
    /// SHA-256 of the thresholds' sorted-key JSON>`. A stored view derived under another
    /// fingerprint is rebuilt from the journal.
    public var fingerprint: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding cannot fail: every value is an integer, a code, or a rate validated to 0...1.
        let bytes = (try? encoder.encode(self)) ?? Data()
        return "v\(Self.semanticsVersion)-" + String(Hash256.sha256(Array(bytes)).hex.prefix(16))
    }

    /// The partnership defaults (identical to decoding `defaultJSON`).
    public static let defaults = ProjectionRules()

    /// The content of the default rules file.
    public static let defaultJSON = """
    {
      "unallocatedDays": 5,
      "referralResponseDays": 5,
      "startWithinDays": 10,
      "enforcementDecisionDays": 7,
      "minimumOutcomesForRate": 5,
      "minimumCompletionRate": 0.75,
      "minimumResponseRate": 0.9,
      "minimumStartRate": 0.9,
      "defaultMaxRiskLevel": "high"
    }

    """

    /// Decodes a rules file; missing keys keep their defaults; out-of-range values throw
    /// `ProjectionRulesError`, malformed JSON throws the decoder's error.
    public init(json: Data) throws {
        self = try JSONDecoder().decode(ProjectionRules.self, from: json)
    }

    private enum CodingKeys: String, CodingKey {
        case unallocatedDays, referralResponseDays, startWithinDays, enforcementDecisionDays
        case minimumOutcomesForRate, minimumCompletionRate, minimumResponseRate, minimumStartRate
        case defaultMaxRiskLevel
    }

    /// Decodes from JSON, filling missing keys with defaults, then checks ranges.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ProjectionRules()
        unallocatedDays = try c.decodeIfPresent(Int.self, forKey: .unallocatedDays) ?? d.unallocatedDays
        referralResponseDays = try c.decodeIfPresent(Int.self, forKey: .referralResponseDays) ?? d.referralResponseDays
        startWithinDays = try c.decodeIfPresent(Int.self, forKey: .startWithinDays) ?? d.startWithinDays
        enforcementDecisionDays = try c.decodeIfPresent(Int.self, forKey: .enforcementDecisionDays) ?? d.enforcementDecisionDays
        minimumOutcomesForRate = try c.decodeIfPresent(Int.self, forKey: .minimumOutcomesForRate) ?? d.minimumOutcomesForRate
        minimumCompletionRate = try c.decodeIfPresent(Double.self, forKey: .minimumCompletionRate) ?? d.minimumCompletionRate
        minimumResponseRate = try c.decodeIfPresent(Double.self, forKey: .minimumResponseRate) ?? d.minimumResponseRate
        minimumStartRate = try c.decodeIfPresent(Double.self, forKey: .minimumStartRate) ?? d.minimumStartRate
        defaultMaxRiskLevel = try c.decodeIfPresent(RiskLevel.self, forKey: .defaultMaxRiskLevel) ?? d.defaultMaxRiskLevel
        try validate()
    }

    /// Checks that day counts are 0...3650, the outcome minimum 1...1,000,000 and rates 0...1.
    public func validate() throws(ProjectionRulesError) {
        for (name, days) in [("unallocatedDays", unallocatedDays), ("referralResponseDays", referralResponseDays),
                             ("startWithinDays", startWithinDays), ("enforcementDecisionDays", enforcementDecisionDays)]
        where !(0...3650).contains(days) {
            throw ProjectionRulesError(field: name, message: "\(days) must be between 0 and 3650 days")
        }
        guard (1...1_000_000).contains(minimumOutcomesForRate) else {
            throw ProjectionRulesError(field: "minimumOutcomesForRate",
                                       message: "\(minimumOutcomesForRate) must be between 1 and 1000000")
        }
        for (name, rate) in [("minimumCompletionRate", minimumCompletionRate),
                             ("minimumResponseRate", minimumResponseRate), ("minimumStartRate", minimumStartRate)]
        where !(rate >= 0 && rate <= 1) {
            throw ProjectionRulesError(field: name, message: "\(rate) must be a fraction between 0 and 1")
        }
    }
}

/// A rules file value outside its allowed range.
public struct ProjectionRulesError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The JSON key at fault.
    public let field: String
    /// What is wrong with it.
    public let message: String

    /// Creates the error.
    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    /// `field: message`.
    public var description: String { "\(field): \(message)" }
}
