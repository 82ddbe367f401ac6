import Foundation
import GatehouseCore

/// What tests look at in the database after driving the doors: reads straight from the role stores.
extension Store {
    func auditEntries(workspace: Workspace?, limit: Int) async throws -> [AuditEntry] {
        try await audit.entries(workspace: workspace, limit: limit, offset: 0, on: db)
    }

    func mail(status: MailStatus?, limit: Int) async throws -> [QueuedMail] {
        try await outbox.messages(status: status, limit: limit, on: db)
    }

    func mailCount(status: MailStatus) async throws -> Int {
        try await outbox.count(status: status, on: db)
    }

    func markMailSent(id: UUID, at date: Date) async throws {
        try await outbox.markSent(id: id, at: date, on: db)
    }

    func markMailAttemptFailed(id: UUID, error: String, retryAt: Date?) async throws {
        try await outbox.markAttemptFailed(id: id, error: error, retryAt: retryAt, now: Date(), on: db)
    }

    func storedKey(fingerprint: String) async throws -> StoredKey? {
        try await keys.key(fingerprint: fingerprint, on: db)
    }

    func members(workspace: Workspace) async throws -> [(User, WorkspaceRole)] {
        try await directory.members(of: workspace, on: db)
    }

    func signInFailures(key: String, since: Date) async throws -> Int {
        try await webSessions.failures(key: key, since: since, on: db)
    }

    func session(hash: String) async throws -> (WebSession, User)? {
        try await webSessions.session(hash: hash, on: db)
    }
}
