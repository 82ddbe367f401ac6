import Foundation
import GatehouseKeys

/// Persistence behind the services. Each method is one transaction; uniqueness rules are database
/// constraints, reported as `GatehouseError`s. Implemented with Fluent (SQLite by default, PostgreSQL later).
public protocol Store: Sendable {
    /// A number that changes whenever anyone (this process, the CLI, another node) commits a change, read
    /// without a round trip; nil when the store cannot tell cheaply, which turns `DataVersionCache` off.
    func dataVersion() -> UInt64?

    func createUser(username: String, email: String, displayName: String) async throws -> User
    func user(username: String) async throws -> User?
    func user(id: UUID) async throws -> User?
    func users() async throws -> [User]

    func createWorkspace(slug: String, name: String, owner: User, seatLimit: Int) async throws -> Workspace
    func workspace(slug: String) async throws -> Workspace?
    /// Adds or changes a member; a new member beyond the seat limit throws `.seatLimitReached`.
    func setMember(workspace: Workspace, user: User, role: WorkspaceRole) async throws
    func members(workspace: Workspace) async throws -> [(User, WorkspaceRole)]

    func createRepository(workspace: Workspace, slug: String, isPrivate: Bool) async throws -> Repository
    func deleteRepository(_ repository: Repository) async throws
    func repository(_ path: RepositoryPath) async throws -> Repository?
    func repositories() async throws -> [Repository]
    func repositories(workspace: Workspace) async throws -> [Repository]
    func setPermission(repository: Repository, user: User, level: AccessLevel) async throws
    /// The account's explicit permissions and workspace roles everywhere, in one round trip.
    func accountGrants(user: User) async throws -> AccountGrantsByRepository
    /// Every repository the account can reach through explicit permissions or workspace roles, with the level.
    func grantedRepositories(user: User) async throws -> [(Repository, AccessLevel)]

    /// The principal for a key fingerprint, in one indexed lookup; nil for an unknown key.
    func principal(fingerprint: String) async throws -> Principal?
    /// The principal for a stored key's id (the OpenSSH forced command carries it); nil once the key is gone.
    func principal(keyID: UUID) async throws -> Principal?
    /// The stored key with this fingerprint, in one indexed lookup.
    func storedKey(fingerprint: String) async throws -> StoredKey?

    /// Adds an account key and writes `record`'s audit entry and mail in the same transaction.
    func addAccountKey(_ key: PublicKey, label: String, user: User, record: @Sendable (StoredKey) -> ChangeRecord) async throws -> StoredKey
    func accountKeys(user: User) async throws -> [StoredKey]
    func renameAccountKey(id: UUID, label: String, audit: AuditEntry) async throws
    func removeAccountKey(id: UUID, audit: AuditEntry) async throws
    /// Attaches the key to every repository in one transaction (creating the key row if new), with each
    /// attachment's audit entry and mail.
    /// Attaches the key (a certificate authority when `certificatePrincipals` is given) to each repository.
    func attachDeployKey(_ key: PublicKey, label: String, repositories: [Repository], addedBy: User?, certificatePrincipals: [String]?,
                         record: @escaping @Sendable (DeployKey) -> ChangeRecord) async throws -> [DeployKey]
    /// Everyone who administers the repository: workspace owners and admins, and explicit repository admins.
    func administrators(of repository: Repository) async throws -> [User]
    func deployKeys(repository: Repository) async throws -> [DeployKey]
    func deployKey(id: Int, repository: Repository) async throws -> DeployKey?
    func renameDeployKey(id: Int, label: String, audit: AuditEntry) async throws
    /// Detaches; the key row goes too when nothing else uses it.
    func removeDeployKey(id: Int, audit: AuditEntry) async throws

    /// Sets last-used times unless they were set less than `throttle` ago (checked in the database).
    /// Returns whether the key's time was written, and what it was before.
    @discardableResult
    func recordKeyUse(keyID: UUID, attachmentID: Int?, at: Date, ifUnusedSince cutoff: Date) async throws -> KeyUseUpdate
    func appendAudit(_ entry: AuditEntry) async throws
    /// Newest first; `offset` skips that many for pagination.
    func auditEntries(workspace: Workspace?, limit: Int, offset: Int) async throws -> [AuditEntry]
    func auditEntryCount(workspace: Workspace?) async throws -> Int

    /// Stores a token under the hash of its secret (unique), with its audit entry, in one transaction.
    func createToken(_ token: APIToken, hash: String, audit: AuditEntry) async throws
    /// The token with this secret hash and its owner, in one indexed lookup.
    func token(hash: String) async throws -> (APIToken, User)?
    func tokens(user: User) async throws -> [APIToken]
    /// False when the user has no such token.
    func deleteToken(id: UUID, user: User, audit: AuditEntry) async throws -> Bool
    func recordTokenUse(id: UUID, at: Date, ifUnusedSince cutoff: Date) async throws

    func setPasswordHash(_ hash: String, user: User) async throws
    /// The account and its password hash (nil when it has no password), by user name.
    func passwordHash(username: String) async throws -> (User, String?)?
    func createSession(_ session: WebSession, hash: String) async throws
    /// The session with this secret hash and its account, in one indexed lookup.
    func session(hash: String) async throws -> (WebSession, User)?
    func deleteSession(hash: String) async throws
    /// Counts a failed sign-in under each key (an account, an address).
    func recordSignInFailure(keys: [String], at: Date) async throws
    func signInFailures(key: String, since: Date) async throws -> Int
    /// Deletes sessions expired before `now` and failed sign-ins older than `failuresBefore`.
    func pruneSignIns(now: Date, failuresBefore: Date) async throws

    /// Claims up to `limit` pending messages due at `now`, hiding them from other senders for `lease`; each
    /// comes back with `nextAttemptAt` set to the end of its lease.
    func claimDueMail(now: Date, limit: Int, lease: TimeInterval) async throws -> [QueuedMail]
    func markMailSent(id: UUID, at: Date) async throws
    /// Hands claimed messages back, due at `at`, without counting an attempt (the sender is stopping); each only
    /// while it is still this sender's claim (`claimedUntil` is the lease `claimDueMail` set).
    func releaseMail(_ claims: [(id: UUID, claimedUntil: Date)], at: Date) async throws
    /// Records a failed attempt: retried at `retryAt`, or failed for good when it is nil.
    func markMailAttemptFailed(id: UUID, error: String, retryAt: Date?) async throws
    /// Deletes messages sent, or failed for good, before `before`; returns how many. Pending ones are kept.
    /// (A failed message's `nextAttemptAt` is when it failed.)
    func pruneMail(before: Date) async throws -> Int
    /// Newest first.
    func mail(status: MailStatus?, limit: Int) async throws -> [QueuedMail]
    func mailCount(status: MailStatus) async throws -> Int
}

/// Where repositories live on disk.
public protocol RepositoryStorage: Sendable {
    func create(_ repository: Repository) async throws
}

extension Store {
    /// The newest `limit` entries.
    public func auditEntries(workspace: Workspace?, limit: Int) async throws -> [AuditEntry] {
        try await auditEntries(workspace: workspace, limit: limit, offset: 0)
    }
}

/// The outcome of recording a key's use.
public struct KeyUseUpdate: Sendable, Equatable {
    public var written: Bool
    public var previous: Date?

    public init(written: Bool, previous: Date?) {
        self.written = written
        self.previous = previous
    }

    /// Whether this was the key's first use on `date`'s UTC day.
    public func isFirstUseOfDay(_ date: Date) -> Bool {
        guard written else { return false }
        guard let previous else { return true }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return !calendar.isDate(previous, inSameDayAs: date)
    }
}
