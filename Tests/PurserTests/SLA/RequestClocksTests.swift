import Foundation
@testable import Purser
import Testing

/// The rules that move a request's clocks, on plain values.
@Suite struct RequestClocksTests {
    static let filed = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18 11:06:40 UTC

    /// Seconds-only targets, so that every number below can be checked by hand.
    static var policy: SLAPolicy {
        var policy = SLAPolicy.standard
        policy.warningShare = 0.5
        policy.targets["P1"] = .init(firstResponse: SLATarget(100, .seconds), resolution: SLATarget(1000, .seconds))
        policy.targets["P2"] = .init(firstResponse: SLATarget(400, .seconds), resolution: SLATarget(4000, .seconds))
        policy.deployment = SLATarget(600, .seconds)
        return policy
    }

    func at(_ seconds: TimeInterval) -> Date { Self.filed.addingTimeInterval(seconds) }

    @Test func filingStartsTheClocksWithDueAndWarningTimes() {
        let clocks = RequestClocks.filed(type: "incident", priority: "P1", at: Self.filed, policy: Self.policy)
        #expect(clocks[.firstResponse]?.dueAt == at(100))
        #expect(clocks[.firstResponse]?.warningAt == at(50))
        #expect(clocks[.resolution]?.dueAt == at(1000))
        #expect(clocks[.deployment] == nil)
        #expect(clocks.nextEvent == at(50))
        #expect(clocks.earliestDue == at(100))
        let deployment = RequestClocks.filed(type: "deployment", priority: "P1", at: Self.filed, policy: Self.policy)
        #expect(deployment[.deployment]?.dueAt == at(600))
    }

    @Test func waitingOnTheCustomerPausesAndTheirAnswerResumes() {
        var clocks = RequestClocks.filed(type: "incident", priority: "P1", at: Self.filed, policy: Self.policy)
        clocks.moved(from: "open", to: "pending_customer", at: at(30), policy: Self.policy)
        #expect(clocks[.resolution]?.state == .paused)
        #expect(clocks[.resolution]?.dueAt == nil)
        #expect(clocks.nextEvent == nil, "nothing can fall due while paused")
        clocks.moved(from: "pending_customer", to: "open", at: at(530), policy: Self.policy)
        // 30 s used before the pause; 500 s of waiting not counted.
        #expect(clocks[.firstResponse]?.dueAt == at(600))
        #expect(clocks[.resolution]?.dueAt == at(1500))
        #expect(clocks[.firstResponse]?.warningAt == at(550))
    }

    @Test func theFirstPublicReplyStopsFirstResponseAndResolutionStopsTheRest() {
        var clocks = RequestClocks.filed(type: "deployment", priority: "P1", at: Self.filed, policy: Self.policy)
        clocks.responded(at: at(60), policy: Self.policy)
        #expect(clocks[.firstResponse]?.state == .stopped)
        #expect(clocks[.firstResponse]?.clock.used(at: at(999), calendar: .aroundTheClock) == 60)
        #expect(clocks[.firstResponse]?.breachedAt == nil)
        clocks.moved(from: "open", to: "resolved", at: at(700), policy: Self.policy)
        #expect(clocks.nextEvent == nil)
        #expect(clocks.earliestDue == nil)
        // Reopened: resolution and deployment count on from what they had used.
        clocks.moved(from: "resolved", to: "open", at: at(5000), policy: Self.policy)
        #expect(clocks[.resolution]?.dueAt == at(5300))
        #expect(clocks[.deployment]?.dueAt == at(5000), "600 s target, 700 s used: due at once")
        #expect(clocks[.firstResponse]?.state == .stopped)
    }

    @Test func aPriorityChangeRetargetsKeepingTheTimeUsed() {
        var clocks = RequestClocks.filed(type: "incident", priority: "P2", at: Self.filed, policy: Self.policy)
        #expect(clocks[.firstResponse]?.dueAt == at(400))
        // Raised to P1 after 30 s: 30 s of P1's 100 s are used, so it falls due 70 s later.
        clocks.retarget(priority: "P1", filedAt: Self.filed, policy: Self.policy)
        #expect(clocks[.firstResponse]?.dueAt == at(100))
        #expect(clocks[.resolution]?.dueAt == at(1000))
        #expect(clocks.nextEvent == at(50))
    }

    @Test func warningsAndBreachesFireOnceEachAtTheirTimes() {
        var clocks = RequestClocks.filed(type: "incident", priority: "P1", at: Self.filed, policy: Self.policy)
        #expect(clocks.fire(at: at(49)).isEmpty)
        let warned = clocks.fire(at: at(50))
        #expect(warned.map(\.kind) == [.firstResponse] && warned.map(\.event) == [.warning])
        #expect(clocks.fire(at: at(60)).isEmpty, "a warning goes out once")
        #expect(clocks.nextEvent == at(100))
        let breached = clocks.fire(at: at(101))
        #expect(breached.map(\.event) == [.breach])
        #expect(clocks[.firstResponse]?.breachedAt == at(100), "recorded at the moment the target passed, not when checked")
        #expect(clocks.isBreached)
        #expect(clocks.nextEvent == at(500), "the resolution warning is next")
        // Stored and read back as the database keeps it.
        let stored = try! JSONEncoder().encode(clocks)
        #expect(try! JSONDecoder().decode(RequestClocks.self, from: stored) == clocks)
        #expect(StoredClocks.parse(Array(stored)) == clocks, "the list's own reader agrees with JSONDecoder")
    }

    @Test func theListReaderTakesPostgreSQLsSpellingAndRefusesOtherShapes() throws {
        // jsonb prints keys by length, with spaces after colons and commas.
        let printed =
            #"{"resolution": {"used": 0, "since": 1795000000.25, "state": "running", "target": 1000, "due_at": 1795001000.25, "business": false, "warning_at": 1795000500.25}}"#
        let clocks = try #require(StoredClocks.parse(Array(printed.utf8)))
        #expect(clocks[.resolution]?.dueAt == Date(timeIntervalSince1970: 1_795_001_000.25))
        #expect(clocks[.resolution]?.state == .running && clocks[.resolution]?.isBusiness == false)
        #expect(try StoredClocks.decode(printed) == JSONDecoder().decode(RequestClocks.self, from: Data(printed.utf8)))
        #expect(StoredClocks.parse(Array("{}".utf8)) == RequestClocks())
        for broken in [#"{"resolution": {"used": 0}}"#, #"{"resolution": []}"#, #"{"a"b": {}}"#, "{", #"{"resolution": {"used": 1e}} x"#] {
            #expect(StoredClocks.parse(Array(broken.utf8)) == nil, "\(broken)")
        }
    }

    @Test func businessTargetsCountWorkingTimeOnly() {
        var policy = Self.policy
        policy.targets["P3"] = .init(firstResponse: SLATarget(4, .businessHours), resolution: SLATarget(3, .businessDays))
        // Friday 2026-11-20 15:00 UTC: 2 h left that day, 2 h on Monday.
        let friday = Date(timeIntervalSince1970: 1_795_186_800)
        let clocks = RequestClocks.filed(type: "question", priority: "P3", at: friday, policy: policy)
        #expect(clocks[.firstResponse]?.dueAt == Date(timeIntervalSince1970: 1_795_186_800 + 3 * 86400 - 4 * 3600))
        // Three business days: the same time of day on Wednesday.
        #expect(clocks[.resolution]?.dueAt == Date(timeIntervalSince1970: 1_795_186_800 + 5 * 86400))
    }
}
