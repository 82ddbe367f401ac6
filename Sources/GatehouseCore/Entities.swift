import Foundation

/// A human account.
public struct User: Sendable, Hashable, Codable {
    public var id: UUID
    public var username: String
    public var email: String
    public var displayName: String

    public init(id: UUID, username: String, email: String, displayName: String) {
        self.id = id
        self.username = username
        self.email = email
        self.displayName = displayName
    }
}

/// A group of repositories with members and a plan's seat limit.
public struct Workspace: Sendable, Equatable, Codable {
    public var id: UUID
    public var slug: String
    public var name: String
    public var ownerID: UUID
    public var seatLimit: Int
    /// The policy `allow_write_deploy_keys`: when off, no deployment key may be made write-enabled, and those
    /// that are act read-only.
    public var allowWriteDeployKeys: Bool
    /// The policy `max_deploy_key_lifetime_days`: when set, new deployment keys need an expiry within it.
    public var maxDeployKeyLifetimeDays: Int?

    public init(
        id: UUID, slug: String, name: String, ownerID: UUID, seatLimit: Int, allowWriteDeployKeys: Bool = true, maxDeployKeyLifetimeDays: Int? = nil
    ) {
        self.maxDeployKeyLifetimeDays = maxDeployKeyLifetimeDays
        self.id = id
        self.slug = slug
        self.name = name
        self.ownerID = ownerID
        self.seatLimit = seatLimit
        self.allowWriteDeployKeys = allowWriteDeployKeys
    }

    /// A workspace that no row has, looked at in place of a missing one so that a missing workspace costs the
    /// same queries as a hidden one.
    static func standIn(for slug: String) -> Workspace {
        Workspace(id: UUID(), slug: slug, name: slug, ownerID: UUID(), seatLimit: 1)
    }
}

/// A Git repository, always inside a workspace.
public struct Repository: Sendable, Equatable, Codable {
    public var id: UUID
    public var workspaceID: UUID
    public var workspaceSlug: String
    public var slug: String
    public var isPrivate: Bool

    public init(id: UUID, workspaceID: UUID, workspaceSlug: String, slug: String, isPrivate: Bool) {
        self.id = id
        self.workspaceID = workspaceID
        self.workspaceSlug = workspaceSlug
        self.slug = slug
        self.isPrivate = isPrivate
    }

    /// `workspace/slug`, the name users type.
    public var fullName: String { "\(workspaceSlug)/\(slug)" }
}

/// Whether a stored SSH key belongs to an account or is a deployment key. A key is never both.
public enum KeyKind: String, Sendable, Codable {
    case account
    case deploy
    /// A deployment credential whose key signs OpenSSH certificates: machines log in with certificates it
    /// signed for one of its principals (through the OpenSSH front end), never with the key itself.
    case certificateAuthority = "certificate-authority"

    /// Whether the key itself logs in. A certificate authority's key only vouches for certificates (which
    /// sshd checks); every door that resolves an offered key asks this.
    public var logsInWithItsOwnKey: Bool { self != .certificateAuthority }
}

/// An SSH public key as stored: one row per distinct key (fingerprint), whatever it is attached to.
public struct StoredKey: Sendable, Equatable, Codable {
    public var id: UUID
    public var kind: KeyKind
    public var fingerprint: String
    /// `TYPE BASE64`, without comment.
    public var publicKey: String
    public var comment: String?
    /// For account keys: the owner. Nil for deployment keys.
    public var userID: UUID?
    /// For account keys: the label the owner gave it.
    public var label: String?
    public var createdAt: Date
    public var lastUsed: Date?
    /// For certificate authorities: the principals a certificate must name (one of them) to be accepted.
    public var principals: [String]
    /// For account keys: when the key stops working (nil: never).
    public var expiresAt: Date? = nil

    public init(
        id: UUID, kind: KeyKind, fingerprint: String, publicKey: String, comment: String?, userID: UUID?,
        label: String?, createdAt: Date, lastUsed: Date?, principals: [String] = [], expiresAt: Date? = nil
    ) {
        self.expiresAt = expiresAt
        self.principals = principals
        self.id = id
        self.kind = kind
        self.fingerprint = fingerprint
        self.publicKey = publicKey
        self.comment = comment
        self.userID = userID
        self.label = label
        self.createdAt = createdAt
        self.lastUsed = lastUsed
    }

    /// For certificate authorities, the principals their certificates must name; nil for every other key.
    public var certificatePrincipals: [String]? { kind == .certificateAuthority ? principals : nil }

    /// The key type's name, e.g. `ssh-ed25519`.
    public var typeName: String { String(publicKey.prefix { $0 != " " }) }
}

/// One deployment key attached to one repository: its own id, label and usage.
public struct DeployKey: Sendable, Equatable {
    public var id: Int
    public var key: StoredKey
    public var repository: Repository
    public var label: String
    /// The account that added it, nil when the operator added it from the CLI.
    public var addedBy: String?
    public var addedAt: Date
    public var lastUsed: Date?
    /// `.read`, or `.write` with `refRules`.
    public var access: AccessLevel
    /// For write-enabled keys: which refs they may change, and how.
    public var refRules: [RefRule]
    /// The repository's workspace policy `allow_write_deploy_keys`.
    public var workspaceAllowsWrite: Bool
    /// When this attachment stops working (nil: never).
    public var expiresAt: Date? = nil

    public init(
        id: Int, key: StoredKey, repository: Repository, label: String, addedBy: String?, addedAt: Date,
        lastUsed: Date?, access: AccessLevel, refRules: [RefRule] = [], workspaceAllowsWrite: Bool = true, expiresAt: Date? = nil
    ) {
        self.expiresAt = expiresAt
        self.refRules = refRules
        self.workspaceAllowsWrite = workspaceAllowsWrite
        self.id = id
        self.key = key
        self.repository = repository
        self.label = label
        self.addedBy = addedBy
        self.addedAt = addedAt
        self.lastUsed = lastUsed
        self.access = access
    }
}

/// A deployment key attached to a workspace: it covers the workspace's repositories that its selector names,
/// those created later included.
public struct WorkspaceDeployKey: Sendable, Equatable {
    public var id: Int
    public var key: StoredKey
    public var workspace: Workspace
    public var label: String
    public var selector: RepositorySelector
    /// `.read`, or `.write` with `refRules`.
    public var access: AccessLevel
    public var refRules: [RefRule]
    public var addedBy: String?
    public var addedAt: Date
    public var lastUsed: Date?
    /// When this attachment stops working (nil: never).
    public var expiresAt: Date? = nil

    public init(
        id: Int, key: StoredKey, workspace: Workspace, label: String, selector: RepositorySelector, access: AccessLevel,
        refRules: [RefRule], addedBy: String?, addedAt: Date, lastUsed: Date?
    ) {
        self.id = id
        self.key = key
        self.workspace = workspace
        self.label = label
        self.selector = selector
        self.access = access
        self.refRules = refRules
        self.addedBy = addedBy
        self.addedAt = addedAt
        self.lastUsed = lastUsed
    }
}

/// One line of the audit log.
public struct AuditEntry: Sendable, Equatable, Codable {
    public var at: Date
    /// `username`, `operator` (the CLI), or a key's fingerprint for actions of a key.
    public var actor: String
    public var action: AuditAction
    /// What the action touched, e.g. `acme/app` or `deploy-key 7`.
    public var object: String
    public var detail: String
    public var sourceIP: String?
    public var workspaceID: UUID?

    public init(
        at: Date, actor: String, action: AuditAction, object: String, detail: String, sourceIP: String?,
        workspaceID: UUID?
    ) {
        self.at = at
        self.actor = actor
        self.action = action
        self.object = object
        self.detail = detail
        self.sourceIP = sourceIP
        self.workspaceID = workspaceID
    }
}

public enum AuditAction: String, Sendable, Codable, CaseIterable {
    case deployKeyAdded = "deploy_key.added"
    case deployKeyRenamed = "deploy_key.renamed"
    case deployKeyRemoved = "deploy_key.removed"
    case accountKeyAdded = "ssh_key.added"
    case accountKeyRemoved = "ssh_key.removed"
    case accountKeyRenamed = "ssh_key.renamed"
    case pushDenied = "push.denied"
    /// A key's first use on a (UTC) day.
    case keyUsed = "key.used"
    case tokenCreated = "token.created"
    case tokenRevoked = "token.revoked"
    /// A write-enabled deployment key's access or ref rules changed.
    case deployKeyPermissionChanged = "deploy_key.permission_changed"
    case workspaceDeployKeyAdded = "workspace_deploy_key.added"
    case workspaceDeployKeyChanged = "workspace_deploy_key.changed"
    case workspaceDeployKeyRemoved = "workspace_deploy_key.removed"
    /// A ref a write-enabled deployment key changed: the ref, old → new, and the operation.
    case refChanged = "ref.changed"
    case workspacePolicyChanged = "workspace.policy_changed"
    /// A new key took over one of an old key's attachments.
    case keyRotated = "deploy_key.rotated"
    case registrationTokenCreated = "registration_token.created"
    case registrationTokenRevoked = "registration_token.revoked"
    /// A machine registered its own key with a registration token.
    case deployKeyRegistered = "deploy_key.registered"
}
