import Foundation
import GatehouseKeys

/// Where a key is attached, as far as the caller administers.
public struct KeyUsage: Sendable, Equatable {
    public var fingerprint: String
    public var repositoryAttachments: [DeployKey]
    public var workspaceAttachments: [WorkspaceDeployKey]

    /// Whether the key is attached nowhere the caller administers.
    public var isEmpty: Bool { repositoryAttachments.isEmpty && workspaceAttachments.isEmpty }
}

/// One repository of a bulk attach: attached now, or already attached before (with that attachment).
public struct AttachOutcome: Sendable, Equatable {
    public var deployKey: DeployKey
    public var created: Bool
}

/// Keys at fleet scale: where one key is, and one key attached to many repositories of a workspace at once.
extension KeyService {
    /// A key named by its fingerprint must be named the way `ssh-keygen -l` prints it; anything else would only
    /// ever be found nowhere.
    public static func requireFingerprint(_ fingerprint: String) throws(GatehouseError) {
        guard fingerprint.hasPrefix("SHA256:"), fingerprint.count > 7 else {
            throw .invalidArgument("\"\(fingerprint)\" is not a key fingerprint. Give it as `ssh-keygen -lf KEY.pub` prints it: SHA256:….")
        }
    }

    /// Every attachment of the key with `fingerprint` that the actor administers (in `workspace` only, when given).
    /// Attachments elsewhere are left out, and an unknown key looks like one attached nowhere the actor can see.
    public func usage(actor: Actor, fingerprint: String, workspace slug: String? = nil) async throws -> KeyUsage {
        try Self.requireFingerprint(fingerprint)
        var workspace: Workspace?
        if let slug { workspace = try await authorizer.workspace(slug, visibleTo: actor) }
        guard let key = try await store.keys.key(fingerprint: fingerprint, on: store.db), key.kind != .account else {
            return KeyUsage(fingerprint: fingerprint, repositoryAttachments: [], workspaceAttachments: [])
        }
        var attached = try await store.keys.deployKeys(.key(key.id), on: store.db)
        var onWorkspaces = try await store.keys.workspaceDeployKeys(.key(key.id), on: store.db)
        if let workspace {
            attached = attached.filter { $0.repository.workspaceID == workspace.id }
            onWorkspaces = onWorkspaces.filter { $0.workspace.id == workspace.id }
        }
        let administered = Set(try await authorizer.permitted(actor, .administer, among: attached.map(\.repository)).map(\.id))
        var visibleWorkspaces: [WorkspaceDeployKey] = []
        for attachment in onWorkspaces where try await authorizer.administers(actor, workspace: attachment.workspace) {
            visibleWorkspaces.append(attachment)
        }
        return KeyUsage(
            fingerprint: fingerprint, repositoryAttachments: attached.filter { administered.contains($0.repository.id) },
            workspaceAttachments: visibleWorkspaces)
    }

    /// The full names of the workspace's repositories a slug or slug glob names, among those the actor can see
    /// (a glob never reveals a repository the actor cannot read). An exact slug is returned as given, so that
    /// attaching to it says "not found" when it is.
    public func repositories(actor: Actor, workspace slug: String, matching patterns: [String]) async throws -> [String] {
        let workspace = try await authorizer.workspace(slug, visibleTo: actor)
        let all = try await authorizer.permitted(actor, .read, among: try await store.directory.repositories(in: workspace, on: store.db))
        var names: [String] = []
        for pattern in patterns {
            guard pattern.contains("*") else {
                names.append("\(workspace.slug)/\(pattern)")
                continue
            }
            let selector = try RepositorySelector(names: [pattern])
            let matched = all.filter { selector.covers($0.slug) }.map(\.fullName)
            guard !matched.isEmpty else {
                throw GatehouseError.invalidArgument("\"\(pattern)\" matches no repository of \(workspace.slug) that you can see. Check the pattern.")
            }
            names += matched
        }
        return names.reduce(into: []) { unique, name in if !unique.contains(name) { unique.append(name) } }
    }

    /// Attaches one key to many repositories of a workspace (slugs and globs) in one unit of work: all or nothing.
    /// The actor must administer every repository named, else nothing happens and the refusal names the first.
    /// A repository that already has the key is reported with its attachment rather than refused.
    public func attach(
        actor: Actor, workspace slug: String, repositories patterns: [String], label: String, keyText: String,
        permission: KeyPermission = .readOnly, expiresAt: Date? = nil, sourceIP: String? = nil
    ) async throws -> [AttachOutcome] {
        guard !patterns.isEmpty else { throw GatehouseError.invalidArgument("Name at least one repository (a slug or a glob such as web-*).") }
        let key = try Self.parse(keyText)
        let label = try Names.validateLabel(label)
        var repositories: [Repository] = []
        for name in try await self.repositories(actor: actor, workspace: slug, matching: patterns) {
            repositories.append(try await authorizer.repository(name, actor: actor, operation: .administer))
        }
        try await checkPolicy(permission, workspace: slug)
        try await checkLifetime(expiresAt, workspace: slug)
        let now = clock()
        let store = store
        let targets = repositories
        return try await disclosingKind(to: actor, of: key.fingerprint) {
            try await store.transaction { tx in
                let keyID = try await Self.storedKeyID(key, principals: nil, at: now, store: store, on: tx)
                let existing = try await store.keys.deployKeys(.key(keyID), on: tx)
                var outcomes: [AttachOutcome] = []
                for repository in targets {
                    if let already = existing.first(where: { $0.repository.id == repository.id }) {
                        outcomes.append(AttachOutcome(deployKey: already, created: false))
                        continue
                    }
                    let attachment = NewAttachment(
                        keyID: keyID, repositoryID: repository.id, label: label, access: permission.access, refRules: permission.refRules,
                        addedBy: actor.user?.id, addedAt: now, expiresAt: expiresAt)
                    let deployKey = try await Self.attach(attachment, to: repository, by: actor, sourceIP: sourceIP, store: store, on: tx)
                    outcomes.append(AttachOutcome(deployKey: deployKey, created: true))
                }
                return outcomes
            }
        }
    }
}
