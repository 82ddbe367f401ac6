import Foundation

/// Accounts, workspaces, repositories and permissions, with their rules.
public struct DirectoryService: Sendable {
    public let store: any Store
    public let storage: any RepositoryStorage

    public init(store: any Store, storage: any RepositoryStorage) {
        self.store = store
        self.storage = storage
    }

    public func addUser(username: String, email: String, displayName: String? = nil) async throws -> User {
        try Names.validateSlug(username, of: "user")
        guard email.contains("@"), !email.contains(where: \.isWhitespace) else {
            throw GatehouseError.invalidArgument("\"\(email)\" is not an email address. Give one like name@example.com.")
        }
        return try await store.createUser(username: username, email: email, displayName: displayName ?? username)
    }

    public func requireUser(_ username: String) async throws -> User {
        guard let user = try await store.user(username: username) else {
            throw GatehouseError.notFound("No user named '\(username)'. Create it with `gatehouse user add \(username) --email EMAIL`.")
        }
        return user
    }

    public func requireWorkspace(_ slug: String) async throws -> Workspace {
        guard let workspace = try await store.workspace(slug: slug) else {
            throw GatehouseError.notFound("No workspace named '\(slug)'. Create it with `gatehouse workspace add \(slug) --owner NAME`.")
        }
        return workspace
    }

    public func addWorkspace(slug: String, name: String? = nil, owner: String, seatLimit: Int) async throws -> Workspace {
        try Names.validateSlug(slug, of: "workspace")
        guard seatLimit >= 1 else { throw GatehouseError.invalidArgument("The seat limit must be at least 1 (the owner takes a seat).") }
        let owner = try await requireUser(owner)
        return try await store.createWorkspace(slug: slug, name: name ?? slug, owner: owner, seatLimit: seatLimit)
    }

    public func setMember(workspace slug: String, username: String, role: WorkspaceRole) async throws {
        let workspace = try await requireWorkspace(slug)
        let user = try await requireUser(username)
        try await store.setMember(workspace: workspace, user: user, role: role)
    }

    public func createRepository(_ fullName: String, isPrivate: Bool) async throws -> Repository {
        let parts = fullName.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 else {
            throw GatehouseError.invalidName("\"\(fullName)\" is not WORKSPACE/REPOSITORY, e.g. acme/website.")
        }
        try Names.validateSlug(parts[1], of: "repository")
        let workspace = try await requireWorkspace(parts[0])
        let repository = try await store.createRepository(workspace: workspace, slug: parts[1], isPrivate: isPrivate)
        do {
            try await storage.create(repository)
        } catch {
            try? await store.deleteRepository(repository)
            throw error
        }
        return repository
    }

    /// The repository at `fullName`, or `.notFound` saying how to create it.
    public func requireRepository(_ fullName: String) async throws -> Repository {
        guard let path = RepositoryPath(parsing: fullName), let repository = try await store.repository(path) else {
            throw GatehouseError.notFound("Repository '\(fullName)' not found. Give it as WORKSPACE/REPOSITORY; `gatehouse repo create` creates one.")
        }
        return repository
    }

    public func grant(repository fullName: String, username: String, level: AccessLevel) async throws {
        let repository = try await requireRepository(fullName)
        let user = try await requireUser(username)
        try await store.setPermission(repository: repository, user: user, level: level)
    }

    /// Creates a repository for an API or web caller: workspace administrators only.
    public func createRepository(actor: Actor, workspace slug: String, slug repositorySlug: String, isPrivate: Bool) async throws -> Repository {
        let workspace = try await administeredWorkspace(slug, actor: actor)
        return try await createRepository("\(workspace.slug)/\(repositorySlug)", isPrivate: isPrivate)
    }

    /// The repositories of a workspace the actor may read, by slug.
    public func visibleRepositories(actor: Actor, workspace slug: String) async throws -> [Repository] {
        try await readable(try await store.repositories(workspace: try await requireWorkspace(slug)), by: actor)
    }

    /// Every repository the actor may read, in every workspace.
    public func visibleRepositories(actor: Actor) async throws -> [Repository] {
        try await readable(try await store.repositories(), by: actor)
    }

    /// Whether the actor administers the workspace (creates repositories, reads its audit log).
    public func administers(_ actor: Actor, workspace: Workspace) async throws -> Bool {
        let role = if let user = actor.user { try await store.role(of: user, in: workspace) } else { WorkspaceRole?.none }
        return Access.authorizeWorkspace(actor, workspace: workspace.slug, role: role) == nil
    }

    /// The repositories the actor may read; a token without the `repository` scope is refused outright.
    private func readable(_ repositories: [Repository], by actor: Actor) async throws -> [Repository] {
        try await store.permitted(actor, .read, among: repositories)
    }

    /// One page of a workspace's audit log, newest first, with the total count: workspace administrators only.
    public func auditLog(actor: Actor, workspace slug: String, offset: Int, limit: Int) async throws -> (entries: [AuditEntry], total: Int) {
        let workspace = try await administeredWorkspace(slug, actor: actor)
        return (try await store.auditEntries(workspace: workspace, limit: limit, offset: offset),
                try await store.auditEntryCount(workspace: workspace))
    }

    private func administeredWorkspace(_ slug: String, actor: Actor) async throws -> Workspace {
        let workspace = try await requireWorkspace(slug)
        let role = if let user = actor.user { try await store.role(of: user, in: workspace) } else { WorkspaceRole?.none }
        if let denial = Access.authorizeWorkspace(actor, workspace: workspace.slug, role: role) { throw GatehouseError.accessDenied(denial) }
        return workspace
    }
}
