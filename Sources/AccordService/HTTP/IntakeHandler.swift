import AccordEvents
import AccordHTTP
import AccordRuntime
import Hummingbird
import Logging

/// How a request carries its events.
private enum IntakeMode {
    /// Structured JSON: one event object or an array (batch).
    case json(batchOnly: Bool)
    /// CloudEvents HTTP binary mode: attributes in `ce-*` headers, data in the body.
    case binary
}

/// `POST /v1/events`: reads and validates submissions and accepts them into the outbox,
/// answering `202` once they are durable there (Kafka gets them from the relay).
struct IntakeHandler: Sendable {
    /// The longest `Idempotency-Key` accepted.
    static let maxIdempotencyKeyLength = 255

    let validator: IntakeValidator
    let intake: EventIntake
    let clock: ServiceClock
    let metrics: ServiceMetrics
    let maxBodyBytes: Int

    func handle(_ request: Request, context: some RequestContext) async throws -> Response {
        let contentType = request.headers[.contentType]
        let essence = contentType.map(MediaTypes.essence) ?? ""
        let binaryType = Self.header(request, "ce-type")
        if let contentType, !MediaTypes.isUTF8(contentType) {
            return reject(.unsupportedMediaType(
                "charset \(MediaTypes.charset(contentType)?.prefix(40) ?? "") is not accepted; JSON is exchanged in UTF-8: send charset=utf-8 or no charset"))
        }
        let mode: IntakeMode
        if essence == MediaTypes.cloudEvent {
            mode = .json(batchOnly: false)
        } else if essence == MediaTypes.cloudEventsBatch {
            mode = .json(batchOnly: true)
        } else if binaryType != nil {
            guard essence.isEmpty || MediaTypes.isJSON(essence) else {
                return reject(.unsupportedMediaType("binary-mode data must be application/json, not \(essence)"))
            }
            mode = .binary
        } else if MediaTypes.isJSON(essence) {
            mode = .json(batchOnly: false)
        } else {
            let what = contentType == nil ? "a request without Content-Type" : "Content-Type \(essence)"
            return reject(.unsupportedMediaType(
                "\(what) is not accepted; send application/json, application/cloudevents+json, application/cloudevents-batch+json, or CloudEvents binary mode (ce-type header with a JSON body)"))
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBodyBytes {
            return reject(.tooLarge("the body is \(length) bytes; the limit is \(maxBodyBytes)", []))
        }
        let body: [UInt8]
        do {
            let buffer = try await request.body.collect(upTo: maxBodyBytes)
            body = Array(buffer.readableBytesView)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            return reject(.tooLarge("the body is larger than the limit of \(maxBodyBytes) bytes", []))
        }
        let idempotencyKey = Self.header(request, "idempotency-key")
        if let key = idempotencyKey, key.isEmpty || key.utf8.count > Self.maxIdempotencyKeyLength
            || !key.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) {
            metrics.rejected("invalid-idempotency-key")
            return Responses.problem(ProblemDetails(
                slug: "invalid-idempotency-key", title: "Invalid Idempotency-Key", status: 400,
                detail: "Idempotency-Key must be 1 to \(Self.maxIdempotencyKeyLength) visible ASCII characters without spaces",
                errors: [FieldError(index: 0, pointer: "", field: "Idempotency-Key",
                                    message: "1 to \(Self.maxIdempotencyKeyLength) visible ASCII characters without spaces",
                                    reason: "invalid-value")]))
        }
        let submissions: [IntakeSubmission]
        do throws(IntakeFailure) {
            let raw: [RawSubmission]
            switch mode {
            case .json(let batchOnly):
                raw = try SubmissionReader.readJSON(body, batchOnly: batchOnly)
            case .binary:
                raw = [SubmissionReader.readBinary(header: { Self.header(request, $0) }, body: body)]
            }
            submissions = try validator.validate(raw, now: clock.now())
        } catch {
            return reject(error)
        }
        return respond(to: await intake.accept(submissions, idempotencyKey: idempotencyKey), count: submissions.count)
    }

    private func respond(to outcome: IntakeOutcome, count: Int) -> Response {
        switch outcome {
        case .accepted(let acknowledgements):
            // 202 `{"accepted":[…]}`: one acknowledgement per submitted event, in request order;
            // `offset` appears once the relay has the event on Kafka (`GET /v1/events/{id}`).
            metrics.accepted(acknowledgements.count)
            return Responses.json(bytes: AcceptedBody.encode(acknowledgements), status: .accepted)
        case .conflict(let errors):
            metrics.rejected("id-conflict", count: errors.count)
            return Responses.problem(ProblemDetails(slug: "id-conflict", title: "Event id already used", status: 409,
                                                    detail: errors.first.map { "\($0.field): \($0.message)" } ?? "id conflict",
                                                    errors: errors))
        case .keyConflict(let detail):
            metrics.rejected("idempotency-key-conflict")
            return Responses.problem(ProblemDetails(
                slug: "idempotency-key-conflict", title: "Idempotency-Key already used", status: 422, detail: detail,
                errors: [FieldError(index: 0, pointer: "", field: "Idempotency-Key", message: detail, reason: "idempotency-key-conflict")]))
        case .unavailable(let reason):
            metrics.rejected("not-ready", count: count)
            return Responses.problem(ProblemDetails(slug: "starting", title: "Service not ready", status: 503,
                                                    detail: reason, retryAfterSeconds: 1))
        case .full(let pending, let limit):
            metrics.rejected("outbox-full", count: count)
            metrics.refused()
            return Responses.problem(ProblemDetails(
                slug: "outbox-full", title: "Outbox full", status: 503,
                detail: "\(pending) accepted entries are waiting for Kafka, the bound is \(limit); nothing of this request was accepted. Retry after a pause with the same ids: nothing is published twice.",
                retryAfterSeconds: 5))
        case .failed(let detail):
            metrics.rejected("outbox-unavailable", count: count)
            return Responses.problem(ProblemDetails(slug: "outbox-unavailable", title: "Outbox unavailable", status: 503,
                                                    detail: detail, retryAfterSeconds: 5))
        }
    }

    private func reject(_ failure: IntakeFailure) -> Response {
        switch failure {
        case .malformed(let error):
            metrics.rejected("malformed-json")
            var problem = ProblemDetails(slug: "malformed-json", title: "Malformed JSON", status: 400,
                                  detail: "the body is not well-formed JSON: \(error)")
            problem.line = error.line
            problem.column = error.column
            return Responses.problem(problem)
        case .unsupportedMediaType(let detail):
            metrics.rejected("unsupported-media-type")
            return Responses.problem(ProblemDetails(slug: "unsupported-media-type", title: "Unsupported media type",
                                             status: 415, detail: detail))
        case .tooLarge(let detail, let errors):
            metrics.rejected("too-large")
            return Responses.problem(ProblemDetails(slug: "payload-too-large", title: "Content too large", status: 413,
                                             detail: detail, errors: errors.isEmpty ? nil : errors))
        case .invalid(let errors):
            for (reason, items) in Dictionary(grouping: errors, by: \.reason) {
                metrics.rejected(reason, count: items.count)
            }
            let items = Set(errors.map(\.index)).count
            let first = errors.first.map { "\($0.field): \($0.message)" } ?? ""
            let detail = errors.count == 1
                ? "\(first); nothing was published"
                : "\(errors.count) problems in \(items) event(s), first \(first); nothing was published"
            return Responses.problem(ProblemDetails(slug: "invalid-events", title: "Invalid events", status: 422,
                                             detail: detail, errors: errors))
        }
    }

    /// A request header's value by case-insensitive name.
    static func header(_ request: Request, _ name: String) -> String? {
        request.headers.first { $0.name.canonicalName == name }?.value
    }
}
