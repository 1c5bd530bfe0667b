/// An amount of money in minor units (pence), e.g. `{"amountMinor": 12500000, "currency": "GBP"}`.
public struct Money: Codable, Sendable, Hashable {
    /// Amount in minor units, ≥ 0.
    public var amountMinor: Int
    /// Currency; always GBP.
    public var currency: Currency

    /// Creates an amount.
    public init(amountMinor: Int, currency: Currency = .gbp) {
        self.amountMinor = amountMinor
        self.currency = currency
    }

    private enum CodingKeys: String, CodingKey { case amountMinor, currency }

    /// Decodes from JSON; a fractional amount is reported at its path.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        amountMinor = try c.decodeInteger(Int.self, forKey: .amountMinor)
        currency = try c.decode(Currency.self, forKey: .currency)
    }

    func validate(_ check: Check) throws(EventError) {
        try check.integer(amountMinor, "amountMinor", atLeast: 0)
    }
}

/// Payment-by-results terms: the share of the price paid only on the outcome.
public struct PaymentByResults: Codable, Sendable, Hashable {
    /// Fraction of the price paid on the outcome, 0...1.
    public var outcomePaymentShare: Double
    /// The outcome that triggers the payment.
    public var outcomeMetric: OutcomeMetric

    /// Creates the terms.
    public init(outcomePaymentShare: Double, outcomeMetric: OutcomeMetric) {
        self.outcomePaymentShare = outcomePaymentShare
        self.outcomeMetric = outcomeMetric
    }

    func validate(_ check: Check) throws(EventError) {
        try check.number(outcomePaymentShare, "outcomePaymentShare", atLeast: 0, atMost: 1)
    }
}

/// Service levels a contract declares; the projector turns them into accountability flags.
public struct ServiceLevels: Codable, Sendable, Hashable {
    /// Days the provider has to accept or decline a referral, 0...365.
    public var referralResponseDays: Int
    /// Days from referral within which the intervention must start, 0...365.
    public var startWithinDays: Int
    /// Minimum share of referrals that must complete, 0...1.
    public var minimumCompletionRate: Double

    /// Creates the service levels.
    public init(referralResponseDays: Int, startWithinDays: Int, minimumCompletionRate: Double) {
        self.referralResponseDays = referralResponseDays
        self.startWithinDays = startWithinDays
        self.minimumCompletionRate = minimumCompletionRate
    }

    private enum CodingKeys: String, CodingKey { case referralResponseDays, startWithinDays, minimumCompletionRate }

    /// Decodes from JSON; fractional day counts are reported at their path.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        referralResponseDays = try c.decodeInteger(Int.self, forKey: .referralResponseDays)
        startWithinDays = try c.decodeInteger(Int.self, forKey: .startWithinDays)
        minimumCompletionRate = try c.decode(Double.self, forKey: .minimumCompletionRate)
    }

    func validate(_ check: Check) throws(EventError) {
        try check.integer(referralResponseDays, "referralResponseDays", atLeast: 0, atMost: 365)
        try check.integer(startWithinDays, "startWithinDays", atLeast: 0, atMost: 365)
        try check.number(minimumCompletionRate, "minimumCompletionRate", atLeast: 0, atMost: 1)
    }
}
