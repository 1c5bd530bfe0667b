import AccordEvents
import AccordProjection
import Foundation

/// Renders an `AuditReport` as one self-contained HTML page (inline CSS, no scripts, no
/// external resources). Every piece of data is HTML-escaped.
public enum ReportHTML {
    /// Most case rows shown in the HTML case table (all of them are in report.json).
    public static let caseRowLimit = 2_000

    /// Escapes text for HTML element content and double- or single-quoted attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\0": out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// The page.
    public static func render(_ report: AuditReport) -> String {
        var page = Page()
        let p = report.perspective
        page.raw("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        page.raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
        page.raw("<title>Accord audit report — \(escape(p.headline))</title>\n<style>\(css)</style>\n</head>\n<body>\n")
        page.raw("<header><h1>Accord audit report</h1>\n")
        page.raw("<div class=\"perspective \(escape(p.name))\"><p class=\"label\">Perspective: <strong>\(escape(p.name))</strong></p>")
        page.raw("<p class=\"headline\">\(escape(p.headline))</p>")
        page.raw("<p>\(escape(p.description)).</p>")
        page.raw("<p>asOf <code>\(escape(p.asOf.description))</code> · knownAt <code>\(escape(p.knownAt?.description ?? "— (everything recorded so far)"))</code>")
        page.raw(" · same view in the query API: <code>?\(escape(p.queryParameters))</code></p></div>\n</header>\n<main>\n")

        // Source and summary.
        let g = report.generatedFrom
        page.section("Generated from")
        page.table(["", ""], [
            ["Live store (read only)", g.storePath],
            ["Replay store", g.replayStorePath ?? "—"],
            ["Journal entries", "\(g.journalEntries)"],
            ["Last journal position", "\(g.lastPosition)"],
            ["Entries in this view", "\(g.entriesInView)"],
            ["View digest", report.digest],
            ["Generated at", g.generatedAt?.description ?? "—"],
        ], headless: true)
        let s = report.summary
        page.section("Summary")
        page.table(["Cases", "Open cases", "Open flags", "Resolved flags", "Contracts", "Areas", "Recorded late"],
                   [["\(s.cases)", "\(s.openCases)", "\(s.openFlags)", "\(s.resolvedFlags)", "\(s.contracts)", "\(s.areas)",
                     "\(s.lateRecordedEvents)"]])

        // Open flags by accountable agency and rule.
        page.section("Open accountability flags, by accountable agency and rule")
        if report.openFlags.isEmpty { page.note("No flag was open.") }
        for group in report.openFlags {
            page.raw("<h3>\(escape(group.accountable)) <span class=\"kind\">\(escape(group.accountableKind.rawValue))</span> — \(escape(group.rule.rawValue)) (\(group.flags.count))</h3>\n")
            page.table(["Subject", "Since", "Area", "Referral", "Contract", "Details"], group.flags.map {
                [$0.subject, $0.since.description, $0.area ?? "", $0.referralId ?? "", $0.contractId ?? "", $0.details]
            })
        }

        // Cases.
        page.section("Cases (\(report.cases.count))")
        let shown = report.cases.prefix(caseRowLimit)
        page.table(["Case", "Area", "Status", "Risk", "Practitioner", "Interventions", "Open flags", "Events", "Last event"],
                   shown.map {
                       [$0.caseId, $0.area ?? "", $0.status.rawValue, $0.riskLevel?.rawValue ?? "", $0.practitionerId ?? "unallocated",
                        "\($0.interventions)", "\($0.openFlags)", "\($0.events)", $0.lastEventAt?.description ?? ""]
                   })
        if report.cases.count > shown.count {
            page.note("First \(shown.count) of \(report.cases.count) cases; every case is in report.json and replay.sqlite.")
        }

        // Contracts and payment by results.
        page.section("Contract performance and payment by results")
        if report.contracts.isEmpty { page.note("No contract in the view.") }
        page.table(["Contract", "Status", "Provider", "Area", "Referrals", "Accepted", "Declined", "Started", "Completed",
                    "Ended early", "Response in limit", "Start in limit", "Completion", "Open flags", "Ended"],
                   report.contracts.map { c in
                       let ended = c.endedAt.map { "\($0)" + (c.endReason.map { ": \($0)" } ?? "") } ?? ""
                       return [c.contractId, c.status.rawValue, c.terms?.providerId ?? "", c.terms?.area ?? "",
                        "\(c.counts.referrals)", "\(c.counts.accepted)", "\(c.counts.declined)", "\(c.counts.started)",
                        "\(c.counts.completed)", "\(c.counts.endedEarly)", percent(c.rates.responseWithinLimit),
                        percent(c.rates.startWithinLimit), percent(c.rates.completion), "\(c.openFlags.count)",
                        ended]
                   })
        let paid = report.contracts.compactMap { c in c.payment.map { (c.contractId, $0) } }
        if !paid.isEmpty {
            page.raw("<h3>Payment by results</h3>\n")
            page.table(["Contract", "Price", "Outcome share", "Metric", "Outcome rate", "Basis", "Fixed", "Outcome",
                        "Outcome maximum", "Total"], paid.map { id, pay in
                [id, money(pay.priceMinor, pay.currency), percent(pay.outcomePaymentShare), pay.outcomeMetric.rawValue,
                 percent(pay.outcomeRate), pay.outcomeBasis, money(pay.fixedPaymentMinor, pay.currency),
                 money(pay.outcomePaymentMinor, pay.currency), money(pay.maximumOutcomePaymentMinor, pay.currency),
                 money(pay.totalPaymentMinor, pay.currency)]
            })
        }
        let levels = report.contracts.flatMap { c in c.serviceLevels.map { (c.contractId, $0) } }
        if !levels.isEmpty {
            page.raw("<h3>Service levels</h3>\n")
            page.table(["Contract", "Service level", "Limit (days)", "Target", "Actual", "Basis", "State"], levels.map { id, l in
                [id, l.name, l.limitDays.map(String.init) ?? "", percent(l.target), percent(l.actual), "\(l.basis)", l.state.rawValue]
            })
        }

        // Areas.
        page.section("Areas")
        if report.areas.isEmpty { page.note("No area in the view.") }
        page.table(["Area", "Open cases", "Closed cases", "Unallocated", "Open flags", "Contracts", "Local priorities",
                    "Proven reoffences"], report.areas.map { a in
            [a.area, "\(a.casesOpen)", "\(a.casesClosed)", "\(a.unallocatedCases.count)",
             "\(a.openFlagsByAgency.reduce(0) { $0 + $1.count })", a.contracts.map(\.contractId).joined(separator: ", "),
             a.localPriorities.map(\.priority).joined(separator: ", "), "\(a.provenReoffences)"]
        })

        // Late-recorded events.
        let late = report.lateRecorded
        page.section("Events recorded after \(late.instant) that changed the picture of it (\(late.events.count))")
        page.note("These happened by \(late.instant) but were recorded later. "
                  + (report.perspective.knownAt == nil
                     ? "They are part of this view (as known now); the view shown at the time did not have them."
                     : "Those not recorded by knownAt are not part of this view; the view as known now includes them."))
        page.table(["Position", "Event id", "Type", "Subject", "Time", "Recorded at", "Source", "In this view"],
                   late.events.map {
                       ["\($0.position)", $0.id, $0.type, $0.subject, $0.time.description, $0.recordedAt.description, $0.source,
                        $0.inThisView ? "yes" : "no"]
                   })
        page.raw("<p>Compared with <strong>\(escape(late.comparedWith.name))</strong> (\(escape(late.comparedWith.headline))), digest <code>\(escape(late.comparedDigest))</code>:</p>\n")
        page.table(["", ""], [
            ["Cases that differ", list(late.casesChanged)],
            ["Contracts that differ", list(late.contractsChanged)],
            ["Flags only in this view", list(late.flagsOnlyInThisView)],
            ["Flags only in the compared view", list(late.flagsOnlyInComparedView)],
        ], headless: true)

        // Integrity.
        let i = report.integrity
        page.section("Integrity")
        page.table(["", ""], [
            ["Journal entries", "\(i.journalEntries)"],
            ["Last position", "\(i.lastPosition)"],
            ["Entries that did not decode", "\(i.undecodable.count)"],
            ["Dead-lettered records", i.deadLetters.map(String.init) ?? "—"],
            ["Verification", i.verification.map { ($0.passed ? "passed: " : "FAILED: ") + $0.summary } ?? "not run"],
        ], headless: true)
        if !i.verificationColumns.isEmpty {
            page.table(["Journal column", "Value", "Entries"], i.verificationColumns.map { [$0.column, $0.value ?? "NULL", "\($0.count)"] })
        }
        if !i.integrityTables.isEmpty {
            page.table(["Table", "Rows"], i.integrityTables.map { [$0.table, "\($0.rows)"] })
        }
        if let problems = i.verification?.problems, !problems.isEmpty {
            page.table(["Verification problem"], problems.map { [$0] })
        }
        if !i.undecodable.isEmpty {
            page.table(["Position", "Event id", "Error"], i.undecodable.map { ["\($0.position)", $0.eventId, $0.error] })
        }
        for note in i.notes { page.note(note) }

        page.raw("</main>\n<footer>Accord audit report format \(report.reportVersion). The machine-readable report.json holds everything shown here and more.</footer>\n</body>\n</html>\n")
        return page.text
    }

    private static func percent(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "—" }
        return String(format: "%.1f%%", value * 100)
    }

    private static func money(_ minor: Int, _ currency: Currency) -> String {
        let sign = minor < 0 ? "-" : ""
        let magnitude = minor.magnitude
        let pence = magnitude % 100
        let symbol = currency == .gbp ? "£" : currency.rawValue + " "
        return "\(sign)\(symbol)\(grouped(magnitude / 100)).\(pence < 10 ? "0" : "")\(pence)"
    }

    private static func grouped(_ value: UInt) -> String {
        let digits = Array(String(value))
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return out
    }

    private static func list(_ items: [String]) -> String {
        items.isEmpty ? "none" : items.joined(separator: ", ")
    }

    /// Accumulates the page's text.
    private struct Page {
        var text = ""

        mutating func raw(_ html: String) { text += html }

        mutating func section(_ title: String) { text += "<h2>\(escape(title))</h2>\n" }

        mutating func note(_ message: String) { text += "<p class=\"note\">\(escape(message))</p>\n" }

        mutating func table(_ header: [String], _ rows: [[String]], headless: Bool = false) {
            guard !rows.isEmpty else {
                if !headless { note("None.") }
                return
            }
            text += "<table>\n"
            if !headless {
                text += "<thead><tr>" + header.map { "<th>\(escape($0))</th>" }.joined() + "</tr></thead>\n"
            }
            text += "<tbody>\n"
            for row in rows {
                if headless, let first = row.first {
                    text += "<tr><th scope=\"row\">\(escape(first))</th>" + row.dropFirst().map { "<td>\(escape($0))</td>" }.joined() + "</tr>\n"
                } else {
                    text += "<tr>" + row.map { "<td>\(escape($0))</td>" }.joined() + "</tr>\n"
                }
            }
            text += "</tbody>\n</table>\n"
        }
    }

    private static let css = """
    body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1f24;background:#fafbfc;line-height:1.4}
    header{background:#12355b;color:#fff;padding:1.2rem 2rem}
    header h1{margin:0 0 .6rem 0;font-size:1.5rem}
    main{padding:1rem 2rem 2rem 2rem}
    .perspective{background:#fff;color:#1b1f24;border-left:6px solid #d97706;padding:.6rem 1rem;border-radius:4px}
    .perspective.as-known-now{border-left-color:#047857}
    .perspective p{margin:.25rem 0}
    .perspective .headline{font-size:1.2rem;font-weight:600}
    h2{margin-top:2rem;border-bottom:2px solid #d0d7de;padding-bottom:.2rem;font-size:1.2rem}
    h3{font-size:1rem;margin:1.2rem 0 .4rem 0}
    .kind{font-weight:normal;color:#57606a;font-size:.85rem}
    table{border-collapse:collapse;margin:.4rem 0 1rem 0;background:#fff;font-size:.85rem}
    th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
    thead th{background:#eef2f6}
    tbody th{background:#f6f8fa;font-weight:600}
    tbody tr:nth-child(even) td{background:#f9fafb}
    code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85em}
    .note{color:#57606a;font-size:.9rem}
    footer{padding:1rem 2rem;color:#57606a;font-size:.8rem}
    """
}
