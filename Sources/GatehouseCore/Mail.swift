import Foundation

/// An email to send. Written to the outbox in the same transaction as the change it reports,
/// so that nothing acknowledged goes unannounced.
public struct OutgoingMail: Sendable, Equatable, Codable {
    public var to: String
    public var subject: String
    public var body: String

    public init(to: String, subject: String, body: String) {
        self.to = to
        self.subject = subject
        self.body = body
    }
}

public enum MailStatus: String, Sendable, Codable, CaseIterable {
    /// Waiting for its first or next attempt.
    case pending
    case sent
    /// Gave up: refused permanently, or failed too many times.
    case failed
}

/// A message in the outbox with its delivery state.
public struct QueuedMail: Sendable, Equatable, Codable {
    public var id: UUID
    public var mail: OutgoingMail
    public var status: MailStatus
    public var attempts: Int
    public var createdAt: Date
    public var nextAttemptAt: Date
    public var lastError: String?
    public var sentAt: Date?

    public init(
        id: UUID, mail: OutgoingMail, status: MailStatus, attempts: Int, createdAt: Date, nextAttemptAt: Date,
        lastError: String?, sentAt: Date?
    ) {
        self.id = id
        self.mail = mail
        self.status = status
        self.attempts = attempts
        self.createdAt = createdAt
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.sentAt = sentAt
    }
}

/// What a change leaves behind besides itself: its audit entry and the notices it sends.
public struct ChangeRecord: Sendable {
    public var audit: AuditEntry
    public var mail: [OutgoingMail]

    public init(audit: AuditEntry, mail: [OutgoingMail] = []) {
        self.audit = audit
        self.mail = mail
    }
}
