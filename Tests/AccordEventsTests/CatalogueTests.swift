import AccordEvents
import Foundation
import Testing

@Suite("Event catalogue and topics")
struct CatalogueTests {
    @Test func topicListHasFiveTopicsWithOwners() {
        #expect(AccordTopic.all.map(\.name) == [
            "probation.case-events.v1", "interventions.delivery-events.v1", "commissioning.events.v1",
            "police.outcome-events.v1", "accord.dead-letter.v1",
        ])
        #expect(AccordTopic.probationCaseEvents.owner == .probation)
        #expect(AccordTopic.interventionsDeliveryEvents.owner == .interventions)
        #expect(AccordTopic.commissioningEvents.owner == .commissioner)
        #expect(AccordTopic.policeOutcomeEvents.owner == .commissioner)
        #expect(AccordTopic.deadLetter.owner == nil)
        #expect(AccordTopic.deadLetter.eventKinds.isEmpty)
        #expect(AccordTopic(name: "nope") == nil)
    }

    @Test func everyKindHasConsistentNames() {
        #expect(EventKind.allCases.count == 24)
        #expect(Set(EventKind.allCases.map(\.type)).count == EventKind.allCases.count)
        for kind in EventKind.allCases {
            #expect(kind.type == "org.accord.\(kind.family).\(kind.name).v\(kind.version)")
            #expect(kind.dataschema == "https://accord.example/schemas/\(kind.schemaPath)")
            // One payload type may serve several versions of an event (its first version is its
            // static kind); a sample payload of the kind reports the kind.
            #expect(kind.dataType.kind.typeBase == kind.typeBase, "\(kind) payload type is another event's")
            #expect(EventSamples.payload(kind, subject: EventSamples.subject(for: kind, index: 1)).kind == kind,
                    "\(kind) sample payload reports another kind")
            #expect(kind.topic.owner == kind.owner)
            #expect(kind.topic.eventKinds.contains(kind))
            #expect(EventKind(type: kind.type) == kind)
        }
        #expect(AccordTopic.probationCaseEvents.eventKinds.count == 9)
        #expect(AccordTopic.interventionsDeliveryEvents.eventKinds.count == 10)
        #expect(AccordTopic.commissioningEvents.eventKinds.count == 4)
        #expect(AccordTopic.policeOutcomeEvents.eventKinds == [.provenReoffenceRecorded])
    }

    @Test func lookupDistinguishesUnknownVersionFromUnknownType() {
        #expect(EventKind.lookup(type: "org.accord.probation.case-opened.v1") == .known(.caseOpened))
        #expect(EventKind.lookup(type: "org.accord.probation.case-opened.v9") == .unknownVersion(knownVersions: [1]))
        #expect(EventKind.lookup(type: "org.accord.probation.case-teleported.v1") == .unknownType)
        #expect(EventKind.lookup(type: "") == .unknownType)
    }

    @Test func everyKindHasItsSchemaFileAndEverySchemaFileIsCatalogued() throws {
        let eventsDir = Support.schemasDir.appendingPathComponent("events")
        var files: Set<String> = []
        let enumerator = FileManager.default.enumerator(at: eventsDir, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            if url.lastPathComponent.hasSuffix(".schema.json") {
                files.insert("events/" + url.standardizedFileURL.path.dropFirst(eventsDir.standardizedFileURL.path.count + 1))
            }
        }
        #expect(files == Set(EventKind.allCases.map(\.schemaPath)))
        for kind in EventKind.allCases {
            let data = try Data(contentsOf: Support.schemasDir.appendingPathComponent(kind.schemaPath))
            let schema = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(schema["$id"] as? String == kind.dataschema)
        }
    }

    @Test func sourcesParseAndRejectBadURNs() {
        let source = EventSource(urn: "urn:accord:interventions:ace-payback")
        #expect(source?.kind == .interventions)
        #expect(source?.agencyId == "ace-payback")
        #expect(source?.urn == "urn:accord:interventions:ace-payback")
        for bad in ["urn:accord:police:met", "urn:accord:probation:", "urn:accord:probation:NPS", "nps-london",
                    "urn:accord:probation:nps london", "urn:other:probation:x"] {
            #expect(EventSource(urn: bad) == nil, "\(bad) should not parse")
        }
    }

    @Test func samplesAreValidDeterministicAndSequencedPerSource() throws {
        let events = EventSamples.mixed(count: 2_000, caseCount: 50)
        #expect(events == EventSamples.mixed(count: 2_000, caseCount: 50))
        #expect(Set(events.map(\.kind)) == Set(EventKind.allCases))
        #expect(Set(events.map(\.id)).count == events.count)
        var last: [EventSource: Int64] = [:]
        for event in events {
            try event.validate()
            #expect(event.sequence == (last[event.source] ?? 0) + 1)
            last[event.source] = event.sequence
        }
        #expect(EventSamples.oneOfEach().map(\.kind) == EventKind.allCases)
    }

    @Test func validateRejectsSourceThatDoesNotOwnTheEvent() {
        var event = EventSamples.event(.caseClosed, subject: "X000001", sequence: 1, time: Support.t0)
        event.source = EventSamples.interventionsSource
        #expect(throws: EventError.self) { try event.validate() }
        do { try event.validate() } catch { #expect(error.reason == .sourceNotTopicOwner && error.field == "source") }
    }
}
