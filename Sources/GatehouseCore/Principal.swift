import Foundation

/// Who is asking, as resolved from the credential a door received (an SSH key today; tokens and sessions later).
public enum Principal: Sendable, Equatable {
    /// A person, authenticated with one of their account keys.
    case account(User, key: KeyReference?)
    /// A deployment key: it can do exactly what its grants say and nothing else.
    case deployKey(DeployKeyPrincipal)
}

extension Principal {
    /// The principal as of `now`: attachments (and an account key) whose expiry has passed move to the expired, so
    /// a connection opened before a key expired is refused after it like a new one.
    public func asOf(_ now: Date) -> Principal {
        switch self {
        case .account(let user, var key):
            if let expiry = key?.expiresAt, expiry <= now { key?.expiredOn = expiry }
            return .account(user, key: key)
        case .deployKey(var key):
            let gone = key.grants.filter { ($0.expiresAt ?? .distantFuture) <= now }
            guard !gone.isEmpty else { return self }
            key.grants.removeAll { ($0.expiresAt ?? .distantFuture) <= now }
            key.expired += gone
            return .deployKey(key)
        }
    }
}

/// The key a principal authenticated with.
public struct KeyReference: Sendable, Equatable {
    public var id: UUID
    public var fingerprint: String
    public var label: String? = nil
    /// When the key stops working (account keys; nil: never).
    public var expiresAt: Date? = nil
    /// Set once the key has expired: every operation is then refused, saying so.
    public var expiredOn: Date? = nil

    public init(id: UUID, fingerprint: String, label: String? = nil) {
        self.id = id
        self.fingerprint = fingerprint
        self.label = label
    }
}

/// A deployment key and everything it is attached to, loaded in one lookup at authentication.
public struct DeployKeyPrincipal: Sendable, Equatable {
    public var keyID: UUID
    public var fingerprint: String
    public var grants: [DeployKeyGrant]
    /// Attachments that had expired when the key was resolved: they grant nothing, but refusals name them.
    public var expired: [DeployKeyGrant]

    public init(keyID: UUID, fingerprint: String, grants: [DeployKeyGrant], expired: [DeployKeyGrant] = []) {
        self.keyID = keyID
        self.fingerprint = fingerprint
        self.grants = grants
        self.expired = expired
    }

    /// The grants that cover one repository: its own attachments and its workspace's that select it.
    public func grants(for repository: Repository) -> [DeployKeyGrant] {
        grants.filter { $0.scope.covers(repository) }
    }
}

/// Where a deployment key is attached: to one repository, or to a workspace with a selector of its repositories.
public enum GrantScope: Sendable, Equatable {
    case repository(id: UUID, fullName: String)
    case workspace(id: UUID, slug: String, selector: RepositorySelector)

    public func covers(_ repository: Repository) -> Bool {
        switch self {
        case .repository(let id, _): id == repository.id
        case .workspace(let id, _, let selector): id == repository.workspaceID && selector.covers(repository.slug)
        }
    }

    /// `acme/app`, or `acme/* (web-*,api)` for a workspace attachment: where a right comes from, for `ssh -T`.
    public var name: String {
        switch self {
        case .repository(_, let fullName): fullName
        case .workspace(_, let slug, let selector): "workspace \(slug) (\(selector == .all ? "all repositories" : selector.description))"
        }
    }
}

/// An attachment's id: repository attachments and workspace attachments are numbered apart.
public enum AttachmentID: Sendable, Hashable {
    case repository(Int)
    case workspace(Int)
}

/// One attachment of a deployment key: where, under which label, with which access and, for write access, which
/// ref rules.
public struct DeployKeyGrant: Sendable, Equatable {
    public var attachment: AttachmentID
    public var label: String
    public var scope: GrantScope
    public var access: AccessLevel
    public var refRules: [RefRule]
    /// False when the workspace's policy (`allow_write_deploy_keys`) is off: a write grant then only reads.
    public var writeAllowedByWorkspace: Bool
    /// When the attachment stops working (nil: never).
    public var expiresAt: Date? = nil

    public init(
        attachment: AttachmentID, label: String, scope: GrantScope, access: AccessLevel, refRules: [RefRule] = [],
        writeAllowedByWorkspace: Bool = true, expiresAt: Date? = nil
    ) {
        self.expiresAt = expiresAt
        self.attachment = attachment
        self.label = label
        self.scope = scope
        self.access = access
        self.refRules = refRules
        self.writeAllowedByWorkspace = writeAllowedByWorkspace
    }

    /// An attachment to one repository with `access`, no ref rules and no expiry.
    public init(attachmentID: Int, label: String, repositoryID: UUID, repositoryFullName: String, access: AccessLevel) {
        self.init(
            attachment: .repository(attachmentID), label: label, scope: .repository(id: repositoryID, fullName: repositoryFullName),
            access: access)
    }

    /// What the grant allows once the workspace's policy is applied.
    public var effectiveAccess: AccessLevel {
        access >= .write && !writeAllowedByWorkspace ? .read : access
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
