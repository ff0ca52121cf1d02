import Foundation
import HTTPServer
import Postgres
@testable import Purser
import Testing
import TestSupport

/// Request numbers under concurrency (no duplicates, no gaps, rolled-back filings give theirs
/// back), and the workflow's allowed moves.
@Suite struct RequestNumberTests {
    @Test func numbersHaveNoGapsAndNoDuplicatesUnderConcurrency() throws {
        let database = try TestDatabase()
        let tenant = UUID.v7()
        try database.connect().query(
            "INSERT INTO tenants (id, slug, key, name, plan_id) VALUES ($1, 'acme', 'ACME', 'Acme', 'standard')",
            [tenant])
        let db = Database(url: database.url, size: 8)
        defer { db.pool.close() }
        let numbers = Locked<[Int]>([])
        let group = DispatchGroup()
        struct Rollback: Error {}
        for index in 0..<60 {
            DispatchQueue.global().async(group: group) {
                do {
                    try db.inTenant(tenant) { tx in
                        let number = try RequestNumbers.next(tenant: tenant, in: tx)
                        // Every fifth filing fails after taking its number.
                        if index % 5 == 4 { throw Rollback() }
                        numbers.withLock { $0.append(number) }
                    }
                } catch {}
            }
        }
        group.wait()
        let taken = numbers.withLock { $0 }.sorted()
        #expect(taken == Array(1...48), "\(taken)")
        #expect(RequestNumbers.display(key: "ACME", number: 42) == "ACME-42")
    }

    @Test func theWorkflowRefusesMovesNamingTheAllowedOnes() throws {
        let now = Date(timeIntervalSince1970: 1_795_000_000)
        try RequestWorkflow.check(from: .new, to: .open, resolvedAt: nil, now: now)
        try RequestWorkflow.check(from: .pendingCustomer, to: .open, resolvedAt: nil, now: now)
        try RequestWorkflow.check(from: .resolved, to: .open, resolvedAt: now.addingTimeInterval(-86400), now: now)
        #expect(
            throws: ValidationError.transitionRefused(
                state: "new", allowed: ["open", "pending_customer", "resolved"],
                "a new request can become: open, pending_customer, resolved")
        ) {
            try RequestWorkflow.check(from: .new, to: .closed, resolvedAt: nil, now: now)
        }
        #expect(throws: ValidationError.transitionRefused(state: "closed", allowed: [], "a closed request cannot change state")) {
            try RequestWorkflow.check(from: .closed, to: .open, resolvedAt: nil, now: now)
        }
        #expect(throws: ValidationError.self) {
            try RequestWorkflow.check(from: .resolved, to: .open, resolvedAt: now.addingTimeInterval(-15 * 86400), now: now)
        }
        // A tenant whose service levels allow 30 days.
        try RequestWorkflow.check(from: .resolved, to: .open, resolvedAt: now.addingTimeInterval(-15 * 86400), reopenDays: 30, now: now)
    }
}
