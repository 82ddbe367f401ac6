import Foundation
import GatehouseCore
import Testing

/// Mail claimed at `referenceTime` for a five-minute lease, looked for again some time later.
struct LeaseAge: Sendable, CustomTestStringConvertible {
    static let lease: TimeInterval = 300

    var lookedAfter: TimeInterval
    var dueAgain: Bool

    var testDescription: String { "\(Int(lookedAfter)) s after the claim: \(dueAgain ? "due again" : "still hidden")" }

    static let all: [LeaseAge] = [
        LeaseAge(lookedAfter: 0, dueAgain: false),
        LeaseAge(lookedAfter: lease - 1, dueAgain: false),
        LeaseAge(lookedAfter: lease, dueAgain: true),
        LeaseAge(lookedAfter: lease * 12, dueAgain: true),
    ]
}

/// A failed delivery attempt, retried after a delay or given up.
struct FailedAttempt: Sendable, CustomTestStringConvertible {
    var retryDelay: TimeInterval?
    var status: MailStatus

    var testDescription: String { retryDelay.map { "retried after \(Int($0)) s: stays \(status)" } ?? "not retried: \(status)" }

    static let all: [FailedAttempt] = [
        FailedAttempt(retryDelay: 60, status: .pending),
        FailedAttempt(retryDelay: nil, status: .failed),
    ]
}

/// One sent, one failed and one pending message, all from `referenceTime`, pruned some time later.
struct PruneAge: Sendable, CustomTestStringConvertible {
    static let retention: TimeInterval = 7 * 86_400

    var prunedAfter: TimeInterval
    var deleted: Int

    var testDescription: String { "pruned \(Int(prunedAfter)) s later: \(deleted) deleted" }

    static let all: [PruneAge] = [
        PruneAge(prunedAfter: retention - 1, deleted: 0),
        PruneAge(prunedAfter: retention, deleted: 0),
        PruneAge(prunedAfter: retention + 1, deleted: 2),
        PruneAge(prunedAfter: retention * 10, deleted: 2),
    ]
}

@Suite("Outbox service")
struct OutboxServiceTests {
    /// The outbox as its sender sees it `seconds` after `referenceTime`.
    func outbox(_ store: Store, after seconds: TimeInterval = 0) -> OutboxService {
        let now = referenceTime.addingTimeInterval(seconds)
        return OutboxService(store: store, clock: { now })
    }

    /// Puts `count` notices in the outbox, as a service does in its unit of work, due at `date`.
    func enqueue(_ store: Store, _ count: Int, at date: Date = referenceTime) async throws {
        for index in 0..<count {
            let mail = OutgoingMail(to: "admin\(index)@example.com", subject: "Notice \(index)", body: "Something changed.")
            try await store.outbox.enqueue(mail, at: date.addingTimeInterval(Double(index) / 1000), on: store.db)
        }
    }

    @Test("claiming takes the due mail and hides it from other senders for the lease", arguments: LeaseAge.all)
    func claimHidesForLease(_ age: LeaseAge) async throws {
        try await withStore { store in
            try await enqueue(store, 2)

            let claimed = try await outbox(store, after: 1).claimDue(limit: 10, lease: LeaseAge.lease)

            #expect(claimed.count == 2)
            #expect(claimed.allSatisfy { $0.status == .pending && $0.attempts == 0 })
            #expect(claimed.allSatisfy { $0.nextAttemptAt == referenceTime.addingTimeInterval(1 + LeaseAge.lease) })
            let later = try await outbox(store, after: 1 + age.lookedAfter).claimDue(limit: 10, lease: LeaseAge.lease)
            let dueAgain: Set<UUID> = age.dueAgain ? Set(claimed.map(\.id)) : []
            #expect(Set(later.map(\.id)) == dueAgain)
        }
    }

    @Test("a claim takes at most its limit, the longest due first, and leaves the rest for the next")
    func claimLimit() async throws {
        try await withStore { store in
            try await enqueue(store, 3)
            let all = try await outbox(store).messages(status: .pending, limit: 10)
            let byDue = all.sorted { $0.nextAttemptAt < $1.nextAttemptAt }.map(\.id)

            let first = try await outbox(store, after: 10).claimDue(limit: 2, lease: 300)
            let second = try await outbox(store, after: 10).claimDue(limit: 2, lease: 300)

            #expect(first.map(\.id) == Array(byDue.prefix(2)))
            #expect(second.map(\.id) == [byDue[2]])
            #expect(try await outbox(store, after: 10).claimDue(limit: 2, lease: 300).isEmpty)
        }
    }

    @Test("mail is not claimed before it is due")
    func notYetDue() async throws {
        try await withStore { store in
            try await enqueue(store, 1, at: referenceTime.addingTimeInterval(60))
            #expect(try await outbox(store).claimDue(limit: 10, lease: 300).isEmpty)
            #expect(try await outbox(store, after: 61).claimDue(limit: 10, lease: 300).count == 1)
        }
    }

    @Test("a failed attempt is counted, and retried after its delay or failed for good", arguments: FailedAttempt.all)
    func failedAttempt(_ row: FailedAttempt) async throws {
        try await withStore { store in
            try await enqueue(store, 1)
            let claimed = try #require(try await outbox(store).claimDue(limit: 1, lease: 300).first)

            try await outbox(store, after: 5).markAttemptFailed(claimed.id, error: "550 mailbox unavailable", retryDelay: row.retryDelay)

            let message = try #require(try await outbox(store).messages(status: nil, limit: 10).first)
            #expect(message.id == claimed.id)
            #expect(message.status == row.status)
            #expect(message.attempts == 1)
            #expect(message.lastError == "550 mailbox unavailable")
            #expect(try await outbox(store).count(status: .failed) == (row.status == .failed ? 1 : 0))
            if let delay = row.retryDelay {
                #expect(message.nextAttemptAt == referenceTime.addingTimeInterval(5 + delay))
                #expect(try await outbox(store, after: 5 + delay - 1).claimDue(limit: 10, lease: 300).isEmpty)
                #expect(try await outbox(store, after: 5 + delay).claimDue(limit: 10, lease: 300).map(\.id) == [claimed.id])
            } else {
                #expect(try await outbox(store, after: 30 * 86_400).claimDue(limit: 10, lease: 300).isEmpty)
            }
        }
    }

    @Test("a failure's error is kept to 1000 characters")
    func longError() async throws {
        try await withStore { store in
            try await enqueue(store, 1)
            let claimed = try #require(try await outbox(store).claimDue(limit: 1, lease: 300).first)

            try await outbox(store).markAttemptFailed(claimed.id, error: String(repeating: "x", count: 5000), retryDelay: nil)

            let message = try #require(try await outbox(store).messages(status: .failed, limit: 1).first)
            #expect(message.lastError?.count == 1000)
        }
    }

    @Test("pruning deletes sent and failed mail older than the retention, and never pending mail", arguments: PruneAge.all)
    func prune(_ row: PruneAge) async throws {
        try await withStore { store in
            try await enqueue(store, 3)
            // A second on, so that all three (queued a millisecond apart) are due.
            let sender = outbox(store, after: 1)
            let claimed = try await sender.claimDue(limit: 3, lease: 300)
            try #require(claimed.count == 3)
            try await sender.markSent(claimed[0].id)
            try await sender.markAttemptFailed(claimed[1].id, error: "refused", retryDelay: nil)
            try await sender.release([claimed[2]])

            let deleted = try await outbox(store, after: 1 + row.prunedAfter).prune(olderThan: PruneAge.retention)

            #expect(deleted == row.deleted)
            #expect(try await sender.count(status: .pending) == 1)
            let kept = try await sender.count(status: .sent) + sender.count(status: .failed)
            #expect(kept == 2 - row.deleted)
            #expect(try await sender.messages(status: .pending, limit: 10).map(\.id) == [claimed[2].id])
        }
    }

    @Test("released mail is due again at once, with no attempt counted")
    func release() async throws {
        try await withStore { store in
            try await enqueue(store, 2)
            let claimed = try await outbox(store, after: 1).claimDue(limit: 10, lease: 300)
            try #require(claimed.count == 2)

            try await outbox(store, after: 10).release(claimed)

            let again = try await outbox(store, after: 10).claimDue(limit: 10, lease: 300)
            #expect(Set(again.map(\.id)) == Set(claimed.map(\.id)))
            #expect(again.allSatisfy { $0.attempts == 0 && $0.status == .pending })
        }
    }

    @Test("a release hands back only what is still the sender's claim")
    func releaseAfterLeaseTakenOver() async throws {
        try await withStore { store in
            try await enqueue(store, 1)
            let stale = try await outbox(store).claimDue(limit: 10, lease: 300)
            // The lease ran out and another sender claimed the message.
            let current = try await outbox(store, after: 400).claimDue(limit: 10, lease: 300)
            try #require(current.map(\.id) == stale.map(\.id))

            try await outbox(store, after: 401).release(stale)

            #expect(try await outbox(store, after: 401).claimDue(limit: 10, lease: 300).isEmpty)
            let message = try #require(try await outbox(store).messages(status: .pending, limit: 1).first)
            #expect(message.nextAttemptAt == referenceTime.addingTimeInterval(700))
        }
    }
}
