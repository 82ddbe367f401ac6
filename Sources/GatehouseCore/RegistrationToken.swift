import Foundation

/// A short-lived secret that allows one thing: a machine registering its own public key as a workspace deployment
/// key, with the selector and permission fixed when the token was made, a bounded number of times.
public struct RegistrationToken: Sendable, Equatable {
    public var id: UUID
    public var workspaceID: UUID
    public var selector: RepositorySelector
    public var access: AccessLevel
    public var refRules: [RefRule]
    /// Put before the label each machine gives (`ci-` + its hostname).
    public var labelPrefix: String
    public var usesLeft: Int
    public var expiresAt: Date
    public var createdBy: String
    public var createdAt: Date

    public init(
        id: UUID, workspaceID: UUID, selector: RepositorySelector, access: AccessLevel, refRules: [RefRule], labelPrefix: String, usesLeft: Int,
        expiresAt: Date, createdBy: String, createdAt: Date
    ) {
        self.id = id
        self.workspaceID = workspaceID
        self.selector = selector
        self.access = access
        self.refRules = refRules
        self.labelPrefix = labelPrefix
        self.usesLeft = usesLeft
        self.expiresAt = expiresAt
        self.createdBy = createdBy
        self.createdAt = createdAt
    }

    /// Registration secrets look unlike API tokens, so that no door mistakes one for the other.
    public static let secretPrefix = "ghr_"
}

/// Registration tokens, by the hash of their secret.
public protocol RegistrationTokenStore: Sendable {
    func insert(_ token: RegistrationToken, hash: String, on db: any StoreHandle) async throws
    func tokens(workspaceID: UUID, on db: any StoreHandle) async throws -> [RegistrationToken]
    func token(hash: String, on db: any StoreHandle) async throws -> RegistrationToken?
    /// Takes one use of the token with this hash if it has one left and has not expired at `now`; nil otherwise.
    /// One conditional UPDATE: of two machines racing for the last use, exactly one gets it.
    func consume(hash: String, workspaceID: UUID, now: Date, on db: any StoreHandle) async throws -> RegistrationToken?
    /// False when the workspace has no such token.
    func delete(id: UUID, workspaceID: UUID, on db: any StoreHandle) async throws -> Bool
}
