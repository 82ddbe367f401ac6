import Foundation

/// The mail outbox as its sender and the operator see it: claim due messages, record what happened to them,
/// prune old ones, list them. Notices are put in by the services whose changes they report, in the same unit
/// of work.
public struct OutboxService: Sendable {
    public let store: Store
    public let clock: @Sendable () -> Date

    public init(store: Store, clock: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.clock = clock
    }

    /// Claims up to `limit` due messages, hiding them from other senders (other nodes) for `lease`.
    public func claimDue(limit: Int, lease: TimeInterval) async throws -> [QueuedMail] {
        let store = store
        let now = clock()
        return try await store.transaction { tx in try await store.outbox.claimDue(now: now, limit: limit, lease: lease, on: tx) }
    }

    public func markSent(_ id: UUID) async throws {
        try await store.outbox.markSent(id: id, at: clock(), on: store.db)
    }

    /// Hands claimed messages back uncounted, due at once (the sender is stopping).
    public func release(_ claimed: some Sequence<QueuedMail>) async throws {
        let claims = claimed.map { (id: $0.id, claimedUntil: $0.nextAttemptAt) }
        let store = store
        let now = clock()
        try await store.transaction { tx in try await store.outbox.release(claims, at: now, on: tx) }
    }

    /// Records a failed attempt: retried after `retryDelay`, or failed for good when it is nil.
    public func markAttemptFailed(_ id: UUID, error: String, retryDelay: TimeInterval?) async throws {
        let store = store
        let now = clock()
        try await store.transaction { tx in
            try await store.outbox.markAttemptFailed(
                id: id, error: String(error.prefix(1000)), retryAt: retryDelay.map(now.addingTimeInterval),
                now: now, on: tx)
        }
    }

    /// Deletes messages sent or failed more than `retention` ago; returns how many. Pending ones are kept.
    public func prune(olderThan retention: TimeInterval) async throws -> Int {
        let store = store
        let before = clock().addingTimeInterval(-retention)
        return try await store.transaction { tx in try await store.outbox.prune(before: before, on: tx) }
    }

    /// Newest first.
    public func messages(status: MailStatus?, limit: Int) async throws -> [QueuedMail] {
        try await store.outbox.messages(status: status, limit: limit, on: store.db)
    }

    public func count(status: MailStatus) async throws -> Int {
        try await store.outbox.count(status: status, on: store.db)
    }
}
