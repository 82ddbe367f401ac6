import Foundation

/// Registration tokens for machines built from scratch (cloud-init): a workspace administrator makes one, fixed to
/// a repository selector and permission, with a number of uses and a lifetime; each machine registers its own
/// freshly made key with it and nothing else.
public struct RegistrationService: Sendable {
    public let store: Store
    public let keys: KeyService
    public let authorizer: Authorizer
    public let clock: @Sendable () -> Date
    /// The longest a registration token may live.
    public static let maximumLifetime: TimeInterval = 30 * 86_400

    public init(store: Store, keys: KeyService, clock: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.keys = keys
        self.authorizer = Authorizer(store: store)
        self.clock = clock
    }

    /// Makes a token; the secret is returned once and only its hash is stored.
    /// A token is for one machine for an hour unless the caller says otherwise (nil takes the default).
    public func create(
        actor: Actor, workspace slug: String, selector: RepositorySelector, permission: KeyPermission = .readOnly, uses: Int? = nil,
        lifetime: TimeInterval? = nil, labelPrefix: String = "", sourceIP: String? = nil
    ) async throws -> (token: RegistrationToken, secret: String) {
        let uses = uses ?? 1
        let lifetime = lifetime ?? 3600
        let workspace = try await authorizer.workspace(slug, administeredBy: actor)
        guard (1...1000).contains(uses) else { throw GatehouseError.invalidArgument("A registration token has 1 to 1000 uses.") }
        guard lifetime >= 60, lifetime <= Self.maximumLifetime else {
            throw GatehouseError.invalidArgument("A registration token lives from a minute to 30 days (e.g. 1h, 7d).")
        }
        if !labelPrefix.isEmpty { _ = try Names.validateLabel(labelPrefix) }
        try await keys.checkPolicy(permission, workspace: workspace.slug)
        let now = clock()
        let token = RegistrationToken(
            id: UUID(), workspaceID: workspace.id, selector: selector, access: permission.access, refRules: permission.refRules,
            labelPrefix: labelPrefix, usesLeft: uses, expiresAt: now.addingTimeInterval(lifetime), createdBy: actor.auditName, createdAt: now)
        let secret = TokenSecret.generate(prefix: RegistrationToken.secretPrefix)
        let entry = AuditEntry(
            at: now, actor: actor.auditName, action: .registrationTokenCreated, object: workspace.slug,
            detail:
                "registration token \(token.id.uuidString.lowercased()): repositories \(selector), \(permission.summary), \(uses) uses, until \(KeyNotices.timestamp(token.expiresAt))",
            sourceIP: sourceIP, workspaceID: workspace.id)
        let store = store
        try await store.transaction { tx in
            try await store.registrations.insert(token, hash: TokenSecret.hash(secret), on: tx)
            try await store.audit.append(entry, on: tx)
        }
        return (token, secret)
    }

    public func list(actor: Actor, workspace slug: String) async throws -> [RegistrationToken] {
        let workspace = try await authorizer.workspace(slug, administeredBy: actor)
        return try await store.registrations.tokens(workspaceID: workspace.id, on: store.db)
    }

    public func revoke(actor: Actor, workspace slug: String, id: UUID, sourceIP: String? = nil) async throws {
        let workspace = try await authorizer.workspace(slug, administeredBy: actor)
        let entry = AuditEntry(
            at: clock(), actor: actor.auditName, action: .registrationTokenRevoked, object: workspace.slug,
            detail: "registration token \(id.uuidString.lowercased())", sourceIP: sourceIP, workspaceID: workspace.id)
        let store = store
        let deleted = try await store.transaction { tx in
            guard try await store.registrations.delete(id: id, workspaceID: workspace.id, on: tx) else { return false }
            try await store.audit.append(entry, on: tx)
            return true
        }
        guard deleted else {
            throw GatehouseError.notFound(
                "Workspace \(workspace.slug) has no registration token \(id.uuidString.lowercased()). List them with `gatehouse registration-token list \(workspace.slug)`."
            )
        }
    }

    /// A machine registers its key: one use of the token is taken and the key attached to the workspace with the
    /// token's selector and permission, all in one unit of work (a refused key gives the use back).
    public func register(secret: String, workspace slug: String, keyText: String, label: String, sourceIP: String?) async throws -> WorkspaceDeployKey {
        guard secret.hasPrefix(RegistrationToken.secretPrefix), secret.utf8.count < 200 else { throw Self.unknownToken }
        let key = try KeyService.parse(keyText)
        // A missing workspace goes the same way as one the token is not for, so a stranger learns nothing of it.
        let workspace =
            try await store.directory.workspace(slug: slug, on: store.db) ?? Workspace.standIn(for: slug)
        let hash = TokenSecret.hash(secret)
        let now = clock()
        let store = store
        let registered: WorkspaceDeployKey?
        do {
            registered = try await store.transaction { tx in
                guard let token = try await store.registrations.consume(hash: hash, workspaceID: workspace.id, now: now, on: tx) else { return nil }
                let label = try Names.validateLabel(token.labelPrefix + label.trimmingCharacters(in: .whitespaces))
                let keyID = try await KeyService.storedKeyID(key, principals: nil, at: now, store: store, on: tx)
                // Under a lifetime policy a registered key gets the longest expiry the policy allows.
                let expiresAt = KeyService.capped(nil, by: workspace, now: now)
                let attachment = NewWorkspaceAttachment(
                    keyID: keyID, workspaceID: workspace.id, label: label, selector: token.selector, access: token.access, refRules: token.refRules,
                    addedBy: nil, addedAt: now, expiresAt: expiresAt)
                let attached = try await KeyService.attach(attachment, to: workspace, store: store, on: tx)
                let change = KeyNotices.workspaceDeployKeyAdded(
                    attached, by: .registrationToken(token.id), sourceIP: sourceIP,
                    recipients: try await store.directory.administrators(of: workspace, on: tx))
                try await store.record(change, on: tx)
                return attached
            }
        } catch let error as GatehouseError where error.namesOtherUseOfKey {
            // A machine holds no other use of any key: it hears only that the key is taken.
            throw GatehouseError.keyAlreadyRegistered
        }
        if let registered { return registered }
        // Nothing was taken: say why, without telling a stranger anything about other workspaces' tokens.
        guard let token = try await store.registrations.token(hash: hash, on: store.db), token.workspaceID == workspace.id else {
            throw Self.unknownToken
        }
        if token.expiresAt <= now {
            throw GatehouseError.accessDenied(.registrationTokenSpent("expired at \(KeyNotices.timestamp(token.expiresAt))"))
        }
        throw GatehouseError.accessDenied(.registrationTokenSpent("has been used as often as it allows"))
    }

    static let unknownToken = GatehouseError.accessDenied(.unknownRegistrationToken)
}
