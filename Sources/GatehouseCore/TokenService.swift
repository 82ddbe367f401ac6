import Foundation

/// Creates, lists, revokes and checks API tokens, with audit entries, whoever calls it (CLI, API, web).
public struct TokenService: Sendable {
    public let store: Store
    public let authorizer: Authorizer
    public let clock: @Sendable () -> Date
    /// The name a token gets when none is given.
    public static let defaultName = "API token"
    /// Last-used times are written at most this often per token, so that busy scripts do not write on every call.
    public static let useThrottle: TimeInterval = 60

    private let uses = UseThrottle<UUID>(interval: TokenService.useThrottle)
    /// Known tokens by hash, while the data is unchanged: a busy script's calls skip the token query, and a
    /// revocation (any commit) ends that at once. Unknown secrets are never kept, so guessing fills nothing.
    private let known = DataVersionCache<String, (APIToken, User)>(capacity: 4096)

    public init(store: Store, clock: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.authorizer = Authorizer(store: store)
        self.clock = clock
    }

    public func create(
        actor: Actor, username: String, name: String, scopes: [TokenScope], expiresAt: Date?,
        sourceIP: String? = nil
    ) async throws -> IssuedToken {
        let owner = try await authorizer.managedAccount(username, actor: actor, write: true)
        let name = try Names.validateLabel(name)
        guard !scopes.isEmpty else {
            throw GatehouseError.invalidArgument("Give the token at least one scope: \(TokenScope.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        let now = clock()
        try ExpiryDate.requireFuture(expiresAt, now: now)
        let secret = TokenSecret.generate()
        let token = APIToken(
            id: UUID(), userID: owner.id, name: name, scopes: TokenScopes(scopes), createdAt: now,
            expiresAt: expiresAt, lastUsed: nil)
        let entry = AuditEntry(
            at: now, actor: actor.auditName, action: .tokenCreated, object: owner.username,
            detail: "token \(token.id.uuidString.lowercased()) \"\(name)\" scopes \(token.scopes.names.joined(separator: " "))",
            sourceIP: sourceIP, workspaceID: nil)
        let store = store
        try await store.transaction { tx in
            try await store.tokens.insert(token, hash: TokenSecret.hash(secret), on: tx)
            try await store.audit.append(entry, on: tx)
        }
        return IssuedToken(token: token, secret: secret)
    }

    public func list(actor: Actor, username: String) async throws -> [APIToken] {
        let owner = try await authorizer.managedAccount(username, actor: actor, write: false)
        return try await store.tokens.tokens(of: owner.id, on: store.db)
    }

    public func revoke(actor: Actor, username: String, id: UUID, sourceIP: String? = nil) async throws {
        let owner = try await authorizer.managedAccount(username, actor: actor, write: true)
        let entry = AuditEntry(
            at: clock(), actor: actor.auditName, action: .tokenRevoked, object: owner.username,
            detail: "token \(id.uuidString.lowercased())", sourceIP: sourceIP, workspaceID: nil)
        let store = store
        let deleted = try await store.transaction { tx in
            guard try await store.tokens.delete(id: id, of: owner.id, on: tx) else { return false }
            try await store.audit.append(entry, on: tx)
            return true
        }
        guard deleted else {
            throw GatehouseError.notFound(
                "\(owner.username) has no token \(id.uuidString.lowercased()). List them with `gatehouse token list \(owner.username)`.")
        }
    }

    /// The actor a secret stands for; nil for an unknown, revoked or expired token, or one of another user
    /// than `username` (HTTP Basic names the user as well).
    public func authenticate(secret: String, username: String? = nil) async throws -> Actor? {
        guard secret.hasPrefix(TokenSecret.prefix), secret.utf8.count < 200 else { return nil }
        let hash = TokenSecret.hash(secret)
        guard
            let (token, owner) = try await known.value(for: hash, at: store.dataVersion(), compute: { try await store.tokens.token(hash: hash, on: store.db) })
        else { return nil }
        let now = clock()
        guard !token.isExpired(at: now) else { return nil }
        if let username, username != owner.username, username != owner.email { return nil }
        // Last use is bookkeeping: a database locked for writing must not refuse a read over it (SSH does the same).
        if uses.shouldRecord(token.id, at: now) {
            try? await store.tokens.recordUse(id: token.id, at: now, ifUnusedSince: uses.cutoff(at: now), on: store.db)
        }
        return .user(owner, scopes: token.scopes)
    }
}
