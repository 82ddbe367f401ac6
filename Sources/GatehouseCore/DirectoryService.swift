import Foundation

/// Accounts, workspaces, repositories and permissions, with their rules.
public struct DirectoryService: Sendable {
    public let store: Store
    public let storage: any RepositoryStorage
    public let authorizer: Authorizer
    public let clock: @Sendable () -> Date

    public init(store: Store, storage: any RepositoryStorage, clock: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.storage = storage
        self.authorizer = Authorizer(store: store)
        self.clock = clock
    }

    public func addUser(username: String, email: String, displayName: String? = nil) async throws -> User {
        try Names.validateSlug(username, of: "user")
        guard email.contains("@"), !email.contains(where: \.isWhitespace) else {
            throw GatehouseError.invalidArgument("\"\(email)\" is not an email address. Give one like name@example.com.")
        }
        let user = User(id: UUID(), username: username, email: email, displayName: displayName ?? username)
        try await store.unique(.alreadyExists("A user named '\(username)' already exists.")) {
            try await store.accounts.create(user, on: store.db)
        }
        return user
    }

    /// Every account, by name (the operator's list).
    public func users(actor: Actor) async throws -> [User] {
        guard actor == .localOperator else { throw GatehouseError.accessDenied(.signInRequired) }
        return try await store.accounts.users(on: store.db)
    }

    public func requireUser(_ username: String) async throws -> User {
        guard let user = try await store.accounts.user(username: username, on: store.db) else {
            throw GatehouseError.notFound("No user named '\(username)'. Create it with `gatehouse user add \(username) --email EMAIL`.")
        }
        return user
    }

    public func requireWorkspace(_ slug: String) async throws -> Workspace {
        try await authorizer.workspace(slug)
    }

    /// Creates a workspace; its owner is its first member and takes a seat.
    public func addWorkspace(slug: String, name: String? = nil, owner: String, seatLimit: Int) async throws -> Workspace {
        try Names.validateSlug(slug, of: "workspace")
        guard seatLimit >= 1 else { throw GatehouseError.invalidArgument("The seat limit must be at least 1 (the owner takes a seat).") }
        let owner = try await requireUser(owner)
        let workspace = Workspace(id: UUID(), slug: slug, name: name ?? slug, ownerID: owner.id, seatLimit: seatLimit)
        let store = store
        try await store.unique(.alreadyExists("A workspace named '\(slug)' already exists.")) {
            try await store.transaction { tx in
                try await store.directory.create(workspace, on: tx)
                try await store.directory.setRole(.owner, of: owner.id, in: workspace, on: tx)
            }
        }
        return workspace
    }

    /// Adds a member or changes a member's role. Seats are people: a new member beyond the plan's limit is
    /// refused (deployment keys are never counted).
    public func setMember(workspace slug: String, username: String, role: WorkspaceRole) async throws {
        let workspace = try await requireWorkspace(slug)
        let user = try await requireUser(username)
        let store = store
        try await store.transaction { tx in
            if try await store.directory.role(of: user.id, in: workspace, on: tx) == nil,
                try await store.directory.memberCount(of: workspace, on: tx) >= workspace.seatLimit
            {
                throw GatehouseError.seatLimitReached(workspace: workspace.slug, limit: workspace.seatLimit)
            }
            try await store.directory.setRole(role, of: user.id, in: workspace, on: tx)
        }
    }

    /// The workspace's members and their roles, by name: its administrators only.
    public func members(actor: Actor, workspace slug: String) async throws -> (Workspace, [(User, WorkspaceRole)]) {
        let workspace = try await authorizer.workspace(slug, administeredBy: actor)
        let members = try await store.directory.members(of: workspace, on: store.db).sorted { $0.0.username < $1.0.username }
        return (workspace, members)
    }

    /// Switches the workspace policy `allow_write_deploy_keys`: when off, no deployment key may be made
    /// write-enabled and those that are act read-only (their pushes are refused, saying so).
    public func setAllowWriteDeployKeys(actor: Actor, workspace slug: String, allowed: Bool, sourceIP: String? = nil) async throws {
        let workspace = try await authorizer.workspace(slug, administeredBy: actor)
        guard workspace.allowWriteDeployKeys != allowed else { return }
        let entry = AuditEntry(
            at: clock(), actor: actor.auditName, action: .workspacePolicyChanged, object: workspace.slug,
            detail: "allow_write_deploy_keys \(workspace.allowWriteDeployKeys) → \(allowed)", sourceIP: sourceIP, workspaceID: workspace.id)
        let store = store
        try await store.transaction { tx in
            try await store.directory.setAllowWriteDeployKeys(allowed, in: workspace, on: tx)
            try await store.audit.append(entry, on: tx)
        }
    }

    /// Sets the workspace policy `max_deploy_key_lifetime_days` (nil: no limit): new deployment keys then need an
    /// expiry within it.
    public func setMaxDeployKeyLifetime(actor: Actor, workspace slug: String, days: Int?, sourceIP: String? = nil) async throws {
        if let days, !(1...3650).contains(days) {
            throw GatehouseError.invalidArgument("The longest lifetime is from 1 to 3650 days, or none.")
        }
        let workspace = try await authorizer.workspace(slug, administeredBy: actor)
        let entry = AuditEntry(
            at: clock(), actor: actor.auditName, action: .workspacePolicyChanged, object: workspace.slug,
            detail: "max_deploy_key_lifetime_days \(workspace.maxDeployKeyLifetimeDays.map(String.init) ?? "none") → \(days.map(String.init) ?? "none")",
            sourceIP: sourceIP, workspaceID: workspace.id)
        let store = store
        try await store.transaction { tx in
            try await store.directory.setMaxDeployKeyLifetime(days: days, in: workspace, on: tx)
            try await store.audit.append(entry, on: tx)
        }
    }

    /// How many deployment key attachments the workspace's repositories have (they take no seat); nil for more
    /// than `ListPage.countLimit`.
    public func deployKeyCount(actor: Actor, workspace slug: String) async throws -> Int? {
        let workspace = try await authorizer.workspace(slug, administeredBy: actor)
        return ListPage<DeployKey>.total(
            try await store.keys.deployKeyCount(in: workspace, upTo: ListPage<DeployKey>.countLimit + 1, on: store.db))
    }

    public func createRepository(_ fullName: String, isPrivate: Bool) async throws -> Repository {
        let parts = fullName.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 else {
            throw GatehouseError.invalidName("\"\(fullName)\" is not WORKSPACE/REPOSITORY, e.g. acme/website.")
        }
        try Names.validateSlug(parts[1], of: "repository")
        let workspace = try await requireWorkspace(parts[0])
        let repository = Repository(id: UUID(), workspaceID: workspace.id, workspaceSlug: workspace.slug, slug: parts[1], isPrivate: isPrivate)
        try await store.unique(.alreadyExists("Repository \(repository.fullName) already exists.")) {
            try await store.directory.create(repository, on: store.db)
        }
        do {
            try await storage.create(repository)
        } catch {
            // The row without its directory would be a repository nobody can clone.
            try? await store.directory.delete(repository, on: store.db)
            throw error
        }
        return repository
    }

    /// The repository at `fullName`, or `.notFound` saying how to create it.
    public func requireRepository(_ fullName: String) async throws -> Repository {
        guard let path = RepositoryPath(parsing: fullName), let repository = try await store.directory.repository(path, on: store.db) else {
            throw GatehouseError.notFound("Repository '\(fullName)' not found. Give it as WORKSPACE/REPOSITORY; `gatehouse repo create` creates one.")
        }
        return repository
    }

    public func grant(repository fullName: String, username: String, level: AccessLevel) async throws {
        let repository = try await requireRepository(fullName)
        let user = try await requireUser(username)
        try await store.directory.setPermission(level, of: user.id, on: repository, on: store.db)
    }

    /// Creates a repository for an API or web caller: workspace administrators only.
    public func createRepository(actor: Actor, workspace slug: String, slug repositorySlug: String, isPrivate: Bool) async throws -> Repository {
        let workspace = try await authorizer.workspace(slug, administeredBy: actor)
        return try await createRepository("\(workspace.slug)/\(repositorySlug)", isPrivate: isPrivate)
    }

    /// The repository if the actor may perform `operation` on it; otherwise "not found" or the refusal.
    public func repository(actor: Actor, _ fullName: String, operation: Operation = .read) async throws -> Repository {
        try await authorizer.repository(fullName, actor: actor, operation: operation)
    }

    /// Whether the actor administers the repository (the web shows its settings then).
    public func administers(_ actor: Actor, repository: Repository) async throws -> Bool {
        try await authorizer.allows(actor, .administer, on: repository)
    }

    /// A window of the repositories of a workspace the actor may read, by slug, and how many there are; a workspace
    /// it cannot see is "not found".
    public func visibleRepositories(actor: Actor, workspace slug: String, window: ListWindow) async throws -> ListPage<Repository> {
        let workspace = try await authorizer.workspace(slug, visibleTo: actor)
        if try await authorizer.readsEveryRepository(of: workspace, actor: actor) {
            return try await ListPage.load(
                window, items: { try await store.directory.repositories(in: workspace, window: $0, on: store.db) },
                count: { try await store.directory.repositoryCount(in: workspace, upTo: $0, on: store.db) })
        }
        // Someone who reads only some of them (the public ones, those granted): the rule decides each one.
        let visible = try await authorizer.permitted(actor, .read, among: try await store.directory.repositories(in: workspace, on: store.db))
        return ListPage(window, loaded: Array(visible.dropFirst(window.offset).prefix(window.limit + 1)), counted: visible.count)
    }

    /// Every repository the actor may read, in every workspace.
    public func visibleRepositories(actor: Actor) async throws -> [Repository] {
        try await authorizer.permitted(actor, .read, among: try await store.directory.repositories(in: nil, on: store.db))
    }

    /// The workspace if the actor administers it, else the refusal ("not found" for a missing one).
    public func administeredWorkspace(actor: Actor, _ slug: String) async throws -> Workspace {
        try await authorizer.workspace(slug, administeredBy: actor)
    }

    /// Whether the actor administers the workspace (creates repositories, reads its audit log).
    public func administers(_ actor: Actor, workspace slug: String) async throws -> Bool {
        try await authorizer.administers(actor, workspace: try await requireWorkspace(slug))
    }

    /// One page of the audit log, newest first, with the total count: a workspace's for its administrators,
    /// everything (`workspace` nil) for the operator.
    public func auditLog(actor: Actor, workspace slug: String?, window: ListWindow) async throws -> ListPage<AuditEntry> {
        let workspace: Workspace?
        if let slug {
            workspace = try await authorizer.workspace(slug, administeredBy: actor)
        } else {
            guard actor == .localOperator else { throw GatehouseError.accessDenied(.signInRequired) }
            workspace = nil
        }
        return try await ListPage.load(
            window, items: { try await store.audit.entries(workspace: workspace, limit: $0.limit, offset: $0.offset, on: store.db) },
            count: { try await store.audit.count(workspace: workspace, upTo: $0, on: store.db) })
    }
}
