import Foundation

/// Loads what `Access` needs (the repository, the caller's grants, its workspace role) and asks it: the one
/// place outside the pure decision that decides access. Every service uses it; nothing else decides.
public struct Authorizer: Sendable {
    let store: Store

    public init(store: Store) {
        self.store = store
    }

    /// The repository at `fullName` if the actor may perform `operation` on it; a repository that does not
    /// exist and one the actor may not see are the same "not found".
    public func repository(_ fullName: String, actor: Actor, operation: Operation) async throws -> Repository {
        // Both paths load the caller's grants, so that a private repository and a missing one cost the same.
        let repository: Repository? =
            if let path = RepositoryPath(parsing: fullName) { try await store.directory.repository(path, on: store.reads) } else { nil }
        let grants = try await accountGrants(of: actor)
        let decision = Access.authorize(
            actor, operation: operation, on: repository, requestedPath: fullName,
            accountGrants: repository.map(grants.grants(on:)) ?? AccountGrants())
        switch decision {
        case .allowed: return repository!
        case .denied(let denial): throw GatehouseError.accessDenied(denial)
        }
    }

    /// Whether the actor may perform `operation` on a repository it already holds.
    public func allows(_ actor: Actor, _ operation: Operation, on repository: Repository) async throws -> Bool {
        let grants = try await accountGrants(of: actor).grants(on: repository)
        if case .allowed = Access.authorize(
            actor, operation: operation, on: repository, requestedPath: repository.fullName,
            accountGrants: grants)
        {
            return true
        }
        return false
    }

    /// The repositories among `repositories` the actor may perform `operation` on, with the grants loaded once;
    /// a denial that is about the caller rather than a repository (a token's missing scope) is thrown.
    public func permitted(_ actor: Actor, _ operation: Operation, among repositories: [Repository]) async throws -> [Repository] {
        let grants = try await accountGrants(of: actor)
        return try repositories.filter { repository in
            switch Access.authorize(
                actor, operation: operation, on: repository, requestedPath: repository.fullName,
                accountGrants: grants.grants(on: repository))
            {
            case .allowed: return true
            case .denied(.missingScope(let scope)): throw GatehouseError.accessDenied(.missingScope(scope))
            case .denied: return false
            }
        }
    }

    /// Whether the actor reads every repository of the workspace by its role alone, so that a list of them can be
    /// cut in the database: `Access` decides on a private repository of the workspace that no one has a grant on.
    public func readsEveryRepository(of workspace: Workspace, actor: Actor) async throws -> Bool {
        let unnamed = Repository(id: UUID(), workspaceID: workspace.id, workspaceSlug: workspace.slug, slug: "", isPrivate: true)
        return try await !permitted(actor, .read, among: [unnamed]).isEmpty
    }

    /// The decision for a Git command of an SSH principal (nil repository: none has that path).
    public func decide(_ principal: Principal, _ operation: Operation, on repository: Repository?, requestedPath: String) async throws -> AccessDecision {
        var grants = AccountGrants()
        if case .account(let user, _) = principal {
            let all = try await store.directory.accountGrants(of: user.id, on: store.reads)
            if let repository { grants = all.grants(on: repository) }
        }
        return Access.decide(principal, operation: operation, on: repository, requestedPath: requestedPath, accountGrants: grants)
    }

    /// The account named by `selector` (a username or `{uuid}`, as in Bitbucket's URLs) if the actor may manage
    /// its keys and tokens. Unknown accounts and other people's get the same refusal.
    public func managedAccount(_ selector: String, actor: Actor, write: Bool) async throws -> User {
        let owner: User?
        if selector.hasPrefix("{"), selector.hasSuffix("}"), let id = UUID(uuidString: String(selector.dropFirst().dropLast())) {
            owner = try await store.accounts.user(id: id, on: store.reads)
        } else {
            owner = try await store.accounts.user(username: selector, on: store.reads)
        }
        guard let owner else {
            throw GatehouseError.accessDenied(actor == .anonymous ? .signInRequired : .accountNotFound(selector))
        }
        if let denial = Access.authorizeAccount(actor, owner: owner, write: write) { throw GatehouseError.accessDenied(denial) }
        return owner
    }

    /// The workspace named `slug` if the actor administers it. One the actor cannot see is "not found", like a
    /// missing one; one it can see but not administer is the refusal.
    public func workspace(_ slug: String, administeredBy actor: Actor) async throws -> Workspace {
        let view = try await workspaceView(slug, actor: actor)
        if let denial = Access.authorizeWorkspace(actor, workspace: view.workspace.slug, role: view.role) { throw GatehouseError.accessDenied(denial) }
        return view.workspace
    }

    /// The workspace named `slug` if the actor can see it (a member, or able to read one of its repositories);
    /// "not found" otherwise, the same as for a missing workspace.
    public func workspace(_ slug: String, visibleTo actor: Actor) async throws -> Workspace {
        try await workspaceView(slug, actor: actor).workspace
    }

    /// The workspace named `slug`, or "not found" saying how to create it: for the operator's commands, and for
    /// slugs the caller has already been shown.
    public func workspace(_ slug: String) async throws -> Workspace {
        guard let workspace = try await store.directory.workspace(slug: slug, on: store.reads) else { throw Self.noWorkspace(slug) }
        return workspace
    }

    /// The workspace if the actor administers it (creates repositories, reads its audit log).
    public func administeredWorkspace(_ workspace: Workspace, actor: Actor) async throws {
        if let denial = try await workspaceDenial(workspace, actor: actor) { throw GatehouseError.accessDenied(denial) }
    }

    /// Whether the actor administers the workspace.
    public func administers(_ actor: Actor, workspace: Workspace) async throws -> Bool {
        try await workspaceDenial(workspace, actor: actor) == nil
    }

    static func noWorkspace(_ slug: String) -> GatehouseError {
        .notFound("No workspace named '\(slug)'. Create it with `gatehouse workspace add \(slug) --owner NAME`.")
    }

    private func workspaceDenial(_ workspace: Workspace, actor: Actor) async throws -> AccessDenial? {
        let role = if let user = actor.user { try await store.directory.role(of: user.id, in: workspace, on: store.reads) } else { WorkspaceRole?.none }
        return Access.authorizeWorkspace(actor, workspace: workspace.slug, role: role)
    }

    /// The workspace with the actor's role in it, if the actor can see it. A missing workspace is looked at
    /// through a placeholder with the same queries, so that it costs what a hidden one costs: neither the answer
    /// nor its timing tells that a workspace exists.
    private func workspaceView(_ slug: String, actor: Actor) async throws -> (workspace: Workspace, role: WorkspaceRole?) {
        let found = try await store.directory.workspace(slug: slug, on: store.reads)
        let workspace = found ?? Workspace.standIn(for: slug)
        let role = if let user = actor.user { try await store.directory.role(of: user.id, in: workspace, on: store.reads) } else { WorkspaceRole?.none }
        let seen =
            switch actor {
            case .localOperator: true
            case .user where role != nil: true
            case .user(let user, _): try await store.directory.hasRepositoryVisible(in: workspace, to: user.id, on: store.reads)
            case .anonymous: try await store.directory.hasRepositoryVisible(in: workspace, to: nil, on: store.reads)
            }
        guard found != nil, seen else { throw Self.noWorkspace(slug) }
        return (workspace, role)
    }

    private func accountGrants(of actor: Actor) async throws -> AccountGrantsByRepository {
        guard let user = actor.user else { return AccountGrantsByRepository() }
        return try await store.directory.accountGrants(of: user.id, on: store.reads)
    }
}
