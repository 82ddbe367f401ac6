import Foundation

/// Accounts and their web passwords.
public protocol AccountStore: Sendable {
    /// Throws `UniqueViolation` when the name is taken.
    func create(_ user: User, on db: any StoreHandle) async throws
    func user(username: String, on db: any StoreHandle) async throws -> User?
    func user(id: UUID, on db: any StoreHandle) async throws -> User?
    func users(on db: any StoreHandle) async throws -> [User]
    func setPasswordHash(_ hash: String, userID: UUID, on db: any StoreHandle) async throws
    /// The account and its password hash (nil when it has no password), by user name.
    func passwordHash(username: String, on db: any StoreHandle) async throws -> (User, String?)?
}

/// Workspaces, their members, repositories and explicit permissions.
public protocol DirectoryStore: Sendable {
    /// Throws `UniqueViolation` when the slug is taken.
    func create(_ workspace: Workspace, on db: any StoreHandle) async throws
    func workspace(slug: String, on db: any StoreHandle) async throws -> Workspace?
    func workspace(id: UUID, on db: any StoreHandle) async throws -> Workspace?
    func role(of userID: UUID, in workspace: Workspace, on db: any StoreHandle) async throws -> WorkspaceRole?
    /// Adds a member, or changes the role of an existing one.
    func setRole(_ role: WorkspaceRole, of userID: UUID, in workspace: Workspace, on db: any StoreHandle) async throws
    func members(of workspace: Workspace, on db: any StoreHandle) async throws -> [(User, WorkspaceRole)]
    func memberCount(of workspace: Workspace, on db: any StoreHandle) async throws -> Int

    /// Throws `UniqueViolation` when the workspace already has the slug.
    func create(_ repository: Repository, on db: any StoreHandle) async throws
    func delete(_ repository: Repository, on db: any StoreHandle) async throws
    func repository(_ path: RepositoryPath, on db: any StoreHandle) async throws -> Repository?
    /// Whether the workspace has a public repository, or one the account (when given) holds a permission on:
    /// what lets a non-member know that the workspace exists.
    func hasRepositoryVisible(in workspace: Workspace, to userID: UUID?, on db: any StoreHandle) async throws -> Bool
    /// Every repository, by workspace and slug; only those of `workspace` when given.
    func repositories(in workspace: Workspace?, on db: any StoreHandle) async throws -> [Repository]
    /// A window of a workspace's repositories by slug, cut in the query.
    func repositories(in workspace: Workspace, window: ListWindow, on db: any StoreHandle) async throws -> [Repository]
    /// How many repositories the workspace has, counted up to `limit`.
    func repositoryCount(in workspace: Workspace, upTo limit: Int, on db: any StoreHandle) async throws -> Int
    /// Sets an account's explicit level on a repository; `.none` removes it.
    func setPermission(_ level: AccessLevel, of userID: UUID, on repository: Repository, on db: any StoreHandle) async throws
    /// The account's explicit permissions and workspace roles everywhere, in one round trip.
    func accountGrants(of userID: UUID, on db: any StoreHandle) async throws -> AccountGrantsByRepository
    /// Every repository the account can reach through explicit permissions or workspace roles, with the level.
    func grantedRepositories(of userID: UUID, on db: any StoreHandle) async throws -> [(Repository, AccessLevel)]
    /// Everyone who administers the repository: workspace owners and admins, and explicit repository admins.
    func administrators(of repository: Repository, on db: any StoreHandle) async throws -> [User]
    /// Workspace owners and admins.
    func administrators(of workspace: Workspace, on db: any StoreHandle) async throws -> [User]
    func setAllowWriteDeployKeys(_ allowed: Bool, in workspace: Workspace, on db: any StoreHandle) async throws
    func setMaxDeployKeyLifetime(days: Int?, in workspace: Workspace, on db: any StoreHandle) async throws
}

/// Stored SSH keys (one row per distinct key) and deployment key attachments.
public protocol KeyStore: Sendable {
    /// The stored key with this fingerprint, in one indexed lookup.
    func key(fingerprint: String, on db: any StoreHandle) async throws -> StoredKey?
    func key(id: UUID, on db: any StoreHandle) async throws -> StoredKey?
    /// Throws `UniqueViolation` when a key with the fingerprint exists.
    func insert(_ key: StoredKey, on db: any StoreHandle) async throws
    /// An account's keys, oldest first; `window` is cut in the query.
    func accountKeys(of userID: UUID, window: ListWindow, on db: any StoreHandle) async throws -> [StoredKey]
    /// How many keys the account has, counted up to `limit`.
    func accountKeyCount(of userID: UUID, upTo limit: Int, on db: any StoreHandle) async throws -> Int
    func setAccountKeyLabel(_ label: String, keyID: UUID, on db: any StoreHandle) async throws
    func deleteKey(id: UUID, on db: any StoreHandle) async throws

    /// Attaches a key to a repository and returns the attachment's id; `UniqueViolation` when it is already there.
    func attach(_ attachment: NewAttachment, on db: any StoreHandle) async throws -> Int
    /// Deployment keys with their key, repository and adder, in one query, by id; `window` is cut in the query.
    func deployKeys(_ filter: AttachmentFilter, window: ListWindow, on db: any StoreHandle) async throws -> [DeployKey]
    /// How many deployment keys the filter names, counted up to `limit`.
    func deployKeyCount(_ filter: AttachmentFilter, upTo limit: Int, on db: any StoreHandle) async throws -> Int
    /// How many deployment keys the workspace's repositories have, counted up to `limit`.
    func deployKeyCount(in workspace: Workspace, upTo limit: Int, on db: any StoreHandle) async throws -> Int
    func setAttachmentLabel(_ label: String, id: Int, on db: any StoreHandle) async throws
    func setAttachmentAccess(_ access: AccessLevel, refRules: [RefRule], id: Int, on db: any StoreHandle) async throws
    func detach(id: Int, on db: any StoreHandle) async throws
    /// Repository and workspace attachments of the key together.
    func attachmentCount(keyID: UUID, on db: any StoreHandle) async throws -> Int

    /// Attaches a key to a workspace; `UniqueViolation` when it is already there.
    func attach(_ attachment: NewWorkspaceAttachment, on db: any StoreHandle) async throws -> Int
    /// Workspace deployment keys by id; `window` is cut in the query.
    func workspaceDeployKeys(_ filter: WorkspaceAttachmentFilter, window: ListWindow, on db: any StoreHandle) async throws -> [WorkspaceDeployKey]
    /// How many workspace deployment keys the filter names, counted up to `limit`.
    func workspaceDeployKeyCount(_ filter: WorkspaceAttachmentFilter, upTo limit: Int, on db: any StoreHandle) async throws -> Int
    func update(_ attachment: WorkspaceDeployKey, on db: any StoreHandle) async throws
    func detachFromWorkspace(id: Int, on db: any StoreHandle) async throws

    /// Remembers that a rotated key's old attachments go at `removal.dueAt`.
    func schedule(_ removal: ScheduledRemoval, on db: any StoreHandle) async throws
    /// Removals due at `now`, oldest first.
    func dueRemovals(now: Date, limit: Int, on db: any StoreHandle) async throws -> [ScheduledRemoval]
    /// Deletes the schedule entry and says whether this caller did (false: another node took it first). Run it in
    /// the transaction that carries the removal out, so that it happens exactly once.
    func take(_ removal: ScheduledRemoval, on db: any StoreHandle) async throws -> Bool

    /// Attachments that expire before `date` and have had fewer than `stage` warnings.
    func expiring(before date: Date, warnedBelow stage: Int, on db: any StoreHandle) async throws -> (
        repositories: [DeployKey], workspaces: [WorkspaceDeployKey]
    )
    /// Records that warning `stage` was sent; false when it already was (another node got there first).
    func markWarned(_ attachment: AttachmentID, stage: Int, on db: any StoreHandle) async throws -> Bool

    /// Sets last-used times unless they were set since `cutoff` (checked in the database).
    func recordUse(keyID: UUID, attachment: AttachmentID?, at: Date, ifUnusedSince cutoff: Date, on db: any StoreHandle) async throws
    /// Records the key's use in the workspace at `date`; true only for the first use since `dayStart` there, for
    /// exactly one caller however many processes or nodes record it at once.
    func recordFirstUse(keyID: UUID, workspaceID: UUID, at date: Date, since dayStart: Date, on db: any StoreHandle) async throws -> Bool
}

/// A new deployment key attachment.
public struct NewAttachment: Sendable {
    public var keyID: UUID
    public var repositoryID: UUID
    public var label: String
    public var access: AccessLevel
    public var refRules: [RefRule]
    public var addedBy: UUID?
    public var addedAt: Date
    /// When the attachment stops working (nil: never).
    public var expiresAt: Date? = nil

    public init(
        keyID: UUID, repositoryID: UUID, label: String, access: AccessLevel, refRules: [RefRule] = [], addedBy: UUID?, addedAt: Date,
        expiresAt: Date? = nil
    ) {
        self.expiresAt = expiresAt
        self.keyID = keyID
        self.repositoryID = repositoryID
        self.label = label
        self.access = access
        self.refRules = refRules
        self.addedBy = addedBy
        self.addedAt = addedAt
    }
}

/// A new workspace deployment key attachment.
public struct NewWorkspaceAttachment: Sendable {
    public var keyID: UUID
    public var workspaceID: UUID
    public var label: String
    public var selector: RepositorySelector
    public var access: AccessLevel
    public var refRules: [RefRule]
    public var addedBy: UUID?
    public var addedAt: Date
    /// When the attachment stops working (nil: never).
    public var expiresAt: Date? = nil

    public init(
        keyID: UUID, workspaceID: UUID, label: String, selector: RepositorySelector, access: AccessLevel, refRules: [RefRule],
        addedBy: UUID?, addedAt: Date, expiresAt: Date? = nil
    ) {
        self.keyID = keyID
        self.expiresAt = expiresAt
        self.workspaceID = workspaceID
        self.label = label
        self.selector = selector
        self.access = access
        self.refRules = refRules
        self.addedBy = addedBy
        self.addedAt = addedAt
    }
}

extension KeyStore {
    /// Every deployment key the filter names: for rules over a key's attachments, not for lists a caller pages.
    public func deployKeys(_ filter: AttachmentFilter, on db: any StoreHandle) async throws -> [DeployKey] {
        try await deployKeys(filter, window: .whole, on: db)
    }

    public func workspaceDeployKeys(_ filter: WorkspaceAttachmentFilter, on db: any StoreHandle) async throws -> [WorkspaceDeployKey] {
        try await workspaceDeployKeys(filter, window: .whole, on: db)
    }

    public func accountKeys(of userID: UUID, on db: any StoreHandle) async throws -> [StoredKey] {
        try await accountKeys(of: userID, window: .whole, on: db)
    }
}

/// Which workspace deployment key attachments to load.
public enum WorkspaceAttachmentFilter: Sendable {
    case key(UUID)
    case workspace(UUID)
    case one(Int, workspace: UUID)
}

/// Which deployment key attachments to load.
public enum AttachmentFilter: Sendable {
    case key(UUID)
    case ids([Int])
    case repository(UUID)
    case one(Int, repository: UUID)
}

/// API tokens, by the hash of their secret.
public protocol TokenStore: Sendable {
    /// Throws `UniqueViolation` for a hash that exists (never in practice: secrets are random).
    func insert(_ token: APIToken, hash: String, on db: any StoreHandle) async throws
    /// The token with this secret hash and its owner, in one indexed lookup.
    func token(hash: String, on db: any StoreHandle) async throws -> (APIToken, User)?
    func tokens(of userID: UUID, on db: any StoreHandle) async throws -> [APIToken]
    /// False when the user has no such token.
    func delete(id: UUID, of userID: UUID, on db: any StoreHandle) async throws -> Bool
    func recordUse(id: UUID, at: Date, ifUnusedSince cutoff: Date, on db: any StoreHandle) async throws
}

/// Browser sessions (by the hash of the cookie's secret) and failed sign-ins.
public protocol WebSessionStore: Sendable {
    func insert(_ session: WebSession, hash: String, on db: any StoreHandle) async throws
    /// The session with this secret hash and its account, in one indexed lookup.
    func session(hash: String, on db: any StoreHandle) async throws -> (WebSession, User)?
    func delete(hash: String, on db: any StoreHandle) async throws
    /// Ends every session of the account (a new password; "sign out everywhere").
    func deleteAll(userID: UUID, on db: any StoreHandle) async throws
    /// Counts a sign-in attempt under each key (an account, an address) before its password is checked; a successful
    /// one is taken back (`forgetAttempts`), so what stays counts failures and attempts still being checked.
    func recordAttempt(keys: [String], at: Date, on db: any StoreHandle) async throws -> [UUID]
    func forgetAttempts(_ ids: [UUID], on db: any StoreHandle) async throws
    func failures(key: String, since: Date, on db: any StoreHandle) async throws -> Int
    /// Remembers that `userID` signed in from `address` (the lockout does not shut it out later).
    func recordSignInAddress(userID: UUID, address: String, at: Date, on db: any StoreHandle) async throws
    /// Whether `userID` signed in successfully from `address` since `since`.
    func hasSignedIn(userID: UUID, from address: String, since: Date, on db: any StoreHandle) async throws -> Bool
    /// Deletes sessions expired before `now` and failed sign-ins older than `failuresBefore`.
    func prune(now: Date, failuresBefore: Date, on db: any StoreHandle) async throws
}

/// The audit log.
public protocol AuditStore: Sendable {
    func append(_ entry: AuditEntry, on db: any StoreHandle) async throws
    /// Newest first; `offset` skips that many; every workspace's when `workspace` is nil.
    func entries(workspace: Workspace?, limit: Int, offset: Int, on db: any StoreHandle) async throws -> [AuditEntry]
    /// How many entries there are (in the workspace, or in all), counted up to `limit`.
    func count(workspace: Workspace?, upTo limit: Int, on db: any StoreHandle) async throws -> Int
}

/// The persistent mail outbox.
public protocol OutboxStore: Sendable {
    func enqueue(_ mail: OutgoingMail, at: Date, on db: any StoreHandle) async throws
    /// Claims up to `limit` pending messages due at `now`, hiding them from other senders for `lease`; each
    /// comes back with `nextAttemptAt` set to the end of its lease. Run it in a transaction.
    func claimDue(now: Date, limit: Int, lease: TimeInterval, on db: any StoreHandle) async throws -> [QueuedMail]
    func markSent(id: UUID, at: Date, on db: any StoreHandle) async throws
    /// Hands claimed messages back, due at `at`, without counting an attempt; each only while it is still this
    /// sender's claim (`claimedUntil` is the lease `claimDue` set).
    func release(_ claims: [(id: UUID, claimedUntil: Date)], at: Date, on db: any StoreHandle) async throws
    /// Records a failed attempt: retried at `retryAt`, or failed for good (at `now`) when it is nil.
    func markAttemptFailed(id: UUID, error: String, retryAt: Date?, now: Date, on db: any StoreHandle) async throws
    /// Deletes messages sent, or failed for good, before `before`; returns how many. Pending ones are kept.
    func prune(before: Date, on db: any StoreHandle) async throws -> Int
    /// Newest first.
    func messages(status: MailStatus?, limit: Int, on db: any StoreHandle) async throws -> [QueuedMail]
    func count(status: MailStatus, on db: any StoreHandle) async throws -> Int
}

/// A rotated key's old attachments, removed by the server when the overlap ends.
public struct ScheduledRemoval: Sendable, Equatable {
    public var id: UUID
    public var keyID: UUID
    public var workspaceID: UUID
    public var repositoryAttachments: [Int]
    public var workspaceAttachments: [Int]
    public var dueAt: Date
    /// Who rotated, for the audit entries of the removal.
    public var requestedBy: String

    public init(
        id: UUID, keyID: UUID, workspaceID: UUID, repositoryAttachments: [Int], workspaceAttachments: [Int], dueAt: Date, requestedBy: String
    ) {
        self.id = id
        self.keyID = keyID
        self.workspaceID = workspaceID
        self.repositoryAttachments = repositoryAttachments
        self.workspaceAttachments = workspaceAttachments
        self.dueAt = dueAt
        self.requestedBy = requestedBy
    }
}
