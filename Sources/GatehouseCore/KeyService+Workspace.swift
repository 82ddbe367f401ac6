import Foundation
import GatehouseKeys

/// Workspace deployment keys: one key for all (or the selected) repositories of a workspace, those created later
/// included. The same rules as repository keys; workspace administrators manage them.
extension KeyService {
    public func addWorkspaceDeployKey(
        actor: Actor, workspace slug: String, label: String, keyText: String, selector: RepositorySelector,
        permission: KeyPermission = .readOnly, expiresAt: Date? = nil, sourceIP: String? = nil
    ) async throws -> WorkspaceDeployKey {
        let key = try Self.parse(keyText)
        let label = try Names.validateLabel(label)
        let workspace = try await authorizer.workspace(slug, administeredBy: actor)
        try await checkPolicy(permission, workspace: workspace.slug)
        try await checkLifetime(expiresAt, workspace: workspace.slug)
        let now = clock()
        let store = store
        return try await disclosingKind(to: actor, of: key.fingerprint) {
            try await store.transaction { tx in
                let keyID = try await Self.storedKeyID(key, principals: nil, at: now, store: store, on: tx)
                let attachment = NewWorkspaceAttachment(
                    keyID: keyID, workspaceID: workspace.id, label: label, selector: selector, access: permission.access,
                    refRules: permission.refRules, addedBy: actor.user?.id, addedAt: now, expiresAt: expiresAt)
                let attached = try await Self.attach(attachment, to: workspace, store: store, on: tx)
                let administrators = try await store.directory.administrators(of: workspace, on: tx)
                try await store.record(KeyNotices.workspaceDeployKeyAdded(attached, by: .actor(actor), sourceIP: sourceIP, recipients: administrators), on: tx)
                return attached
            }
        }
    }

    /// Attaches a stored key to a workspace in `tx`; "once per workspace" is the schema's constraint, reported by name.
    static func attach(_ attachment: NewWorkspaceAttachment, to workspace: Workspace, store: Store, on tx: any StoreHandle) async throws
        -> WorkspaceDeployKey
    {
        let id = try await store.unique(.keyAlreadyOnWorkspace(workspace.slug)) { try await store.keys.attach(attachment, on: tx) }
        guard let attached = try await store.keys.workspaceDeployKeys(.one(id, workspace: workspace.id), on: tx).first else {
            throw GatehouseError.internalFailure("The workspace deployment key \(id) was not found right after it was added.")
        }
        return attached
    }

    /// One window of a workspace's deployment keys, by id, and how many it has.
    public func listWorkspaceDeployKeys(actor: Actor, workspace slug: String, window: ListWindow) async throws -> ListPage<WorkspaceDeployKey> {
        let workspace = try await authorizer.workspace(slug, administeredBy: actor)
        return try await ListPage.load(
            window, items: { try await store.keys.workspaceDeployKeys(.workspace(workspace.id), window: $0, on: store.db) },
            count: { try await store.keys.workspaceDeployKeyCount(.workspace(workspace.id), upTo: $0, on: store.db) })
    }

    public func workspaceDeployKey(actor: Actor, workspace slug: String, id: Int) async throws -> WorkspaceDeployKey {
        let workspace = try await authorizer.workspace(slug, administeredBy: actor)
        guard let key = try await store.keys.workspaceDeployKeys(.one(id, workspace: workspace.id), on: store.db).first else {
            throw GatehouseError.notFound(
                "No deployment key \(id) on workspace \(workspace.slug). List them with `gatehouse workspace deploy-key list \(workspace.slug)`.")
        }
        return key
    }

    /// Changes label, selector and permission; never the key (`keyText`, when given, must be the stored key).
    public func editWorkspaceDeployKey(
        actor: Actor, workspace slug: String, id: Int, label: String? = nil, selector: RepositorySelector? = nil,
        permission: KeyPermission? = nil, keyText: String? = nil, sourceIP: String? = nil
    ) async throws -> WorkspaceDeployKey {
        let before = try await workspaceDeployKey(actor: actor, workspace: slug, id: id)
        if let keyText, try Self.parse(keyText).fingerprint != before.key.fingerprint { throw GatehouseError.keyCannotChange }
        if let permission { try await checkPolicy(permission, workspace: before.workspace.slug) }
        var after = before
        if let label { after.label = try Names.validateLabel(label) }
        if let selector { after.selector = selector }
        if let permission {
            after.access = permission.access
            after.refRules = permission.refRules
        }
        guard after != before else { return before }
        let entry = AuditEntry(
            at: clock(), actor: actor.auditName, action: .workspaceDeployKeyChanged, object: before.workspace.slug,
            detail: "workspace deploy key \(id): \(Self.summary(before)) → \(Self.summary(after))", sourceIP: sourceIP,
            workspaceID: before.workspace.id)
        let store = store
        let changed = after
        try await store.transaction { tx in
            try await store.keys.update(changed, on: tx)
            try await store.audit.append(entry, on: tx)
        }
        return after
    }

    public func removeWorkspaceDeployKey(actor: Actor, workspace slug: String, id: Int, sourceIP: String? = nil) async throws {
        let attached = try await workspaceDeployKey(actor: actor, workspace: slug, id: id)
        let entry = AuditEntry(
            at: clock(), actor: actor.auditName, action: .workspaceDeployKeyRemoved, object: attached.workspace.slug,
            detail: "workspace deploy key \(id) \"\(attached.label)\" \(attached.key.fingerprint)", sourceIP: sourceIP,
            workspaceID: attached.workspace.id)
        let store = store
        try await store.transaction { tx in
            try await store.keys.detachFromWorkspace(id: id, on: tx)
            try await Self.forgetIfUnused(attached.key.id, store: store, on: tx)
            try await store.audit.append(entry, on: tx)
        }
    }

    /// The workspace keys that cover a repository, for its administrators' key list ("from the workspace").
    public func workspaceDeployKeys(actor: Actor, covering fullName: String) async throws -> [WorkspaceDeployKey] {
        let repository = try await authorizer.repository(fullName, actor: actor, operation: .administer)
        guard let workspace = try await store.directory.workspace(slug: repository.workspaceSlug, on: store.db) else { return [] }
        return try await store.keys.workspaceDeployKeys(.workspace(workspace.id), on: store.db).filter { $0.selector.covers(repository.slug) }
    }

    /// `"label" repositories SELECTOR, PERMISSION`, for audit entries.
    static func summary(_ key: WorkspaceDeployKey) -> String {
        let permission = KeyPermission.summary(key.access, key.refRules)
        return "\"\(key.label)\" repositories \(key.selector), \(permission)"
    }
}
