import Foundation

extension Store {
    /// The account named by `selector` (a username or `{uuid}`, as in Bitbucket's URLs) if the actor may manage
    /// its keys and tokens. Unknown accounts and other people's get the same refusal.
    public func managedAccount(_ selector: String, actor: Actor, write: Bool) async throws -> User {
        let owner: User?
        if selector.hasPrefix("{"), selector.hasSuffix("}"), let id = UUID(uuidString: String(selector.dropFirst().dropLast())) {
            owner = try await user(id: id)
        } else {
            owner = try await user(username: selector)
        }
        guard let owner else {
            throw GatehouseError.accessDenied(actor == .anonymous ? .signInRequired : .accountNotFound(selector))
        }
        if let denial = Access.authorizeAccount(actor, owner: owner, write: write) { throw GatehouseError.accessDenied(denial) }
        return owner
    }

    /// The repository at `fullName` if the actor may perform `operation` on it, decided by `Access.authorize`.
    public func authorizedRepository(_ fullName: String, actor: Actor, operation: Operation) async throws -> Repository {
        let repository: Repository? = if let path = RepositoryPath(parsing: fullName) { try await self.repository(path) } else { nil }
        switch try await decision(actor, operation, on: repository, requestedPath: fullName) {
        case .allowed: return repository!
        case .denied(let denial): throw GatehouseError.accessDenied(denial)
        }
    }

    /// `Access.authorize` with the account's grants loaded: the one way management doors ask about a repository.
    public func decision(_ actor: Actor, _ operation: Operation, on repository: Repository?, requestedPath: String? = nil) async throws -> AccessDecision {
        let grants = if let repository, let user = actor.user { try await accountGrants(user: user, repository: repository) } else { AccountGrants() }
        return Access.authorize(actor, operation: operation, on: repository, requestedPath: requestedPath ?? repository?.fullName ?? "",
                                accountGrants: grants)
    }

    /// The account's grants on one repository, read the one way grants are read.
    public func accountGrants(user: User, repository: Repository) async throws -> AccountGrants {
        try await accountGrants(user: user).grants(on: repository)
    }

    /// The repositories among `repositories` the actor may perform `operation` on, with the grants loaded once;
    /// a denial that is about the caller rather than a repository (a token's missing scope) is thrown.
    public func permitted(_ actor: Actor, _ operation: Operation, among repositories: [Repository]) async throws -> [Repository] {
        let grants = if let user = actor.user { try await accountGrants(user: user) } else { AccountGrantsByRepository() }
        return try repositories.filter { repository in
            switch Access.authorize(actor, operation: operation, on: repository, requestedPath: repository.fullName,
                                    accountGrants: grants.grants(on: repository)) {
            case .allowed: return true
            case .denied(.missingScope(let scope)): throw GatehouseError.accessDenied(.missingScope(scope))
            case .denied: return false
            }
        }
    }

    /// The user's role in the workspace, nil when not a member.
    public func role(of user: User, in workspace: Workspace) async throws -> WorkspaceRole? {
        try await members(workspace: workspace).first { $0.0.id == user.id }?.1
    }
}
