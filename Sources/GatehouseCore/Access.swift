/// What a caller wants to do to a repository.
public enum Operation: Sendable, Equatable, CaseIterable {
    /// Clone, fetch, ls-remote, archive.
    case read
    /// Push.
    case write
    /// Manage settings such as deployment keys.
    case administer

    public var requiredLevel: AccessLevel {
        switch self {
        case .read: .read
        case .write: .write
        case .administer: .admin
        }
    }
}

/// The outcome of an access decision.
public enum AccessDecision: Sendable, Equatable {
    case allowed(AccessLevel)
    case denied(AccessDenial)
}

/// Why access was refused; the message is the same whichever door asked.
public enum AccessDenial: Error, Sendable, Equatable, CustomStringConvertible {
    /// The repository does not exist or the principal may not read it: indistinguishable on purpose.
    case notFound(String)
    case readOnlyDeployKey(label: String, fingerprint: String, repository: String)
    case readOnlyAccount(username: String, repository: String)
    case notAdministrator(repository: String)

    public var description: String {
        switch self {
        case .notFound(let path):
            "Repository '\(path)' not found or access denied. Check the path (workspace/repository) and that your key has been added to it."
        case .readOnlyDeployKey(let label, let fingerprint, let repository):
            "The deployment key '\(label)' (\(fingerprint)) is read-only: it cannot push to \(repository). Push with an account key that has write access."
        case .readOnlyAccount(let username, let repository):
            "\(username) has read access to \(repository), not write. Ask a repository administrator for write access."
        case .notAdministrator(let repository):
            "Only administrators of \(repository) can do this. Ask a repository or workspace administrator."
        }
    }
}

/// The one access decision for every door: built-in SSH, the OpenSSH forced command, the API and the web.
public enum Access {
    /// The highest level `principal` holds on `repository`.
    public static func level(of principal: Principal, on repository: Repository, accountGrants: AccountGrants) -> AccessLevel {
        switch principal {
        case .account:
            let visibility: AccessLevel = repository.isPrivate ? .none : .read
            return max(accountGrants.explicit, accountGrants.workspaceRole?.impliedRepositoryAccess ?? .none, visibility)
        case .deployKey(let key):
            return key.grants(for: repository).map(\.access).max() ?? .none
        }
    }

    /// Decides whether `principal` may perform `operation` on `repository` (nil when no repository has that path).
    /// - Parameters:
    ///   - requestedPath: what the caller asked for, echoed in "not found" so that it reveals nothing new.
    ///   - accountGrants: for account principals, their explicit permission and workspace role; ignored for keys.
    public static func decide(
        _ principal: Principal, operation: Operation, on repository: Repository?, requestedPath: String,
        accountGrants: AccountGrants = AccountGrants()
    ) -> AccessDecision {
        guard let repository else { return .denied(.notFound(requestedPath)) }
        let level = level(of: principal, on: repository, accountGrants: accountGrants)
        guard level >= .read else { return .denied(.notFound(requestedPath)) }
        guard level < operation.requiredLevel else { return .allowed(level) }
        switch (operation, principal) {
        case (.write, .deployKey(let key)):
            let label = key.grants(for: repository).first?.label ?? "?"
            return .denied(.readOnlyDeployKey(label: label, fingerprint: key.fingerprint, repository: repository.fullName))
        case (.write, .account(let user, _)):
            return .denied(.readOnlyAccount(username: user.username, repository: repository.fullName))
        default:
            return .denied(.notAdministrator(repository: repository.fullName))
        }
    }
}
