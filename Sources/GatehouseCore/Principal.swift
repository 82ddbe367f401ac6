import Foundation

/// Who is asking, as resolved from the credential a door received (an SSH key today; tokens and sessions later).
public enum Principal: Sendable, Equatable {
    /// A person, authenticated with one of their account keys.
    case account(User, key: KeyReference?)
    /// A deployment key: it can do exactly what its grants say and nothing else.
    case deployKey(DeployKeyPrincipal)
}

/// The key a principal authenticated with.
public struct KeyReference: Sendable, Equatable {
    public var id: UUID
    public var fingerprint: String

    public init(id: UUID, fingerprint: String) {
        self.id = id
        self.fingerprint = fingerprint
    }
}

/// A deployment key and everything it is attached to, loaded in one lookup at authentication.
public struct DeployKeyPrincipal: Sendable, Equatable {
    public var keyID: UUID
    public var fingerprint: String
    public var grants: [DeployKeyGrant]

    public init(keyID: UUID, fingerprint: String, grants: [DeployKeyGrant]) {
        self.keyID = keyID
        self.fingerprint = fingerprint
        self.grants = grants
    }

    /// The grants that cover one repository.
    public func grants(for repository: Repository) -> [DeployKeyGrant] {
        grants.filter { $0.repositoryID == repository.id }
    }
}

/// One attachment of a deployment key: which repository, under which label, with which access.
public struct DeployKeyGrant: Sendable, Equatable {
    public var attachmentID: Int
    public var label: String
    public var repositoryID: UUID
    public var repositoryFullName: String
    public var access: AccessLevel

    public init(attachmentID: Int, label: String, repositoryID: UUID, repositoryFullName: String, access: AccessLevel) {
        self.attachmentID = attachmentID
        self.label = label
        self.repositoryID = repositoryID
        self.repositoryFullName = repositoryFullName
        self.access = access
    }
}

/// What an account holds on one repository besides the repository's visibility.
public struct AccountGrants: Sendable, Equatable {
    public var explicit: AccessLevel
    public var workspaceRole: WorkspaceRole?

    public init(explicit: AccessLevel = .none, workspaceRole: WorkspaceRole? = nil) {
        self.explicit = explicit
        self.workspaceRole = workspaceRole
    }
}

/// Everything an account holds, for deciding about many repositories at once (a list) without a query each.
public struct AccountGrantsByRepository: Sendable, Equatable {
    public var explicit: [UUID: AccessLevel]
    public var workspaceRoles: [UUID: WorkspaceRole]

    public init(explicit: [UUID: AccessLevel] = [:], workspaceRoles: [UUID: WorkspaceRole] = [:]) {
        self.explicit = explicit
        self.workspaceRoles = workspaceRoles
    }

    public func grants(on repository: Repository) -> AccountGrants {
        AccountGrants(explicit: explicit[repository.id] ?? .none, workspaceRole: workspaceRoles[repository.workspaceID])
    }
}

/// Who performs a management action: the local operator (the CLI, trusted like root), an account
/// (limited by the scopes of the token it used), or nobody signed in.
public enum Actor: Sendable, Hashable {
    case localOperator
    case user(User, scopes: TokenScopes)
    case anonymous

    /// An account acting with all of its own permissions (a web session, or a test).
    public static func user(_ user: User) -> Actor { .user(user, scopes: .unlimited) }

    /// The name written to the audit log.
    public var auditName: String {
        switch self {
        case .localOperator: "operator"
        case .user(let user, _): user.username
        case .anonymous: "anonymous"
        }
    }

    /// The account behind the request, if any.
    public var user: User? {
        if case .user(let user, _) = self { return user }
        return nil
    }
}
