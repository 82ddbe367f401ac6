import GatehouseKeys

/// What kind of failure an error is; each door maps categories once (HTTP status, SSH exit, CLI exit code).
public enum ErrorCategory: Sendable, Equatable {
    /// The request itself is wrong: fix it and send it again.
    case invalidInput
    /// It does not exist, or the caller may not know that it does.
    case notFound
    /// It clashes with what exists (a key already registered, a name taken, a seat limit).
    case conflict
    /// The caller may not do this.
    case denied
    /// The caller has not said who they are.
    case unauthenticated
    /// The server cannot do it now (a database or git that is not there); trying later may work.
    case unavailable
    /// The server has no room left to store it (a full disk); nothing was changed.
    case storageFull
    /// A fault in the server: never the caller's.
    case `internal`
}

/// The one error type of every service. Every case says what was wrong and what to do; nothing was changed.
public enum GatehouseError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidKey(KeyError)
    case invalidName(String)
    case invalidLabel(String)
    case notFound(String)
    case accessDenied(AccessDenial)
    case alreadyExists(String)
    /// The key is an account's key; it cannot also be a deployment key. Does not say whose.
    case keyIsAccountKey
    /// The key is a deployment key; it cannot also be an account key.
    case keyIsDeployKey
    /// The key is already registered: some account's key (maybe another person's), or, to a caller who does not
    /// hold its other use, a deployment key or an authority (Bitbucket's neutral wording).
    case keyAlreadyRegistered
    case keyAlreadyOnRepository(String)
    case keyAlreadyOnWorkspace(String)
    /// The workspace's policy allows no write-enabled deployment keys.
    case writeKeysNotAllowed(workspace: String)
    case keyCannotChange
    case accountKeyCannotChange
    case seatLimitReached(workspace: String, limit: Int)
    case invalidArgument(String)
    /// The key is stored as a certificate authority and is being added as something else, or the reverse.
    case keyIsCertificateAuthority
    case keyIsNotCertificateAuthority
    case certificatePrincipalsDiffer
    /// A part the server needs failed (git, the disk, the database); the message says which, for the log.
    case unavailable(String)
    /// The disk under the database or the repositories is full; the message says which, for the log.
    case storageFull(String)
    /// A fault in the server; the message is for the log, never for the caller.
    case internalFailure(String)

    public var category: ErrorCategory {
        switch self {
        case .invalidKey, .invalidName, .invalidLabel, .invalidArgument, .keyCannotChange, .accountKeyCannotChange: .invalidInput
        case .notFound: .notFound
        case .accessDenied(let denial): denial.category
        case .alreadyExists, .keyIsAccountKey, .keyIsDeployKey, .keyAlreadyRegistered, .keyAlreadyOnRepository, .keyAlreadyOnWorkspace, .seatLimitReached,
            .writeKeysNotAllowed,
            .keyIsCertificateAuthority, .keyIsNotCertificateAuthority, .certificatePrincipalsDiffer:
            .conflict
        case .unavailable: .unavailable
        case .storageFull: .storageFull
        case .internalFailure: .internal
        }
    }

    /// Whether the refusal says what else a key is (an account's key, a deployment key, an authority): told only to
    /// a caller who holds that other use.
    public var namesOtherUseOfKey: Bool {
        switch self {
        case .keyIsAccountKey, .keyIsDeployKey, .keyIsCertificateAuthority, .keyIsNotCertificateAuthority, .certificatePrincipalsDiffer: true
        default: false
        }
    }

    /// What the caller is told: the description, except for server faults, whose detail goes to the log only.
    public var callerMessage: String {
        switch category {
        case .unavailable: "The server cannot do this right now; try again. If it persists, tell the operator (the server log has the cause)."
        case .storageFull: "The server's disk is full, so nothing was changed. Try again once the operator has freed space."
        case .internal: "Something went wrong on the server. It has been logged; try again, and tell the operator if it persists."
        default: description
        }
    }

    /// Any error as a `GatehouseError`: a storage engine's as it says (`GatehouseErrorConvertible`), unexpected ones
    /// as `internalFailure` with their detail for the log.
    public init(_ error: any Error) {
        switch error {
        case let error as GatehouseError: self = error
        case let error as any GatehouseErrorConvertible: self = error.gatehouseError
        default: self = .internalFailure(String(reflecting: error))
        }
    }

    public var description: String {
        switch self {
        case .invalidKey(let error): error.description
        case .invalidName(let message), .invalidLabel(let message), .notFound(let message),
            .alreadyExists(let message), .invalidArgument(let message), .unavailable(let message), .storageFull(let message),
            .internalFailure(let message):
            message
        case .accessDenied(let denial): denial.description
        case .keyIsAccountKey:
            "Someone has already registered that SSH key. It is an account's SSH key, so it cannot also be a deployment key: generate a separate key for the machine (ssh-keygen -t ed25519) and add that."
        case .keyIsDeployKey:
            "This key is already used as a deployment key, so it cannot be an account key. Generate a separate key for your account (ssh-keygen -t ed25519) and add that."
        case .keyAlreadyRegistered:
            "Someone has already registered that SSH key. Generate a new key (ssh-keygen -t ed25519) and add that."
        case .keyAlreadyOnRepository(let repository):
            "Someone has already added that access key to this repository. It is already on \(repository): edit the existing key's label or remove it first."
        case .keyAlreadyOnWorkspace(let workspace):
            "Someone has already added that access key to this workspace. It is already a deployment key of \(workspace): edit that one (its label, repositories or permission) or remove it first."
        case .writeKeysNotAllowed(let workspace):
            "Workspace \(workspace) allows no write-enabled deployment keys. Add the key read-only, or ask a workspace administrator to allow them (gatehouse workspace policy \(workspace) --allow-write-deploy-keys)."
        case .accountKeyCannotChange:
            "The key of an SSH key can't be changed; delete it and add the new key. Only the label can be edited."
        case .keyCannotChange:
            "The key of a deployment key can't be changed; delete it and add the new key. Its label, permission, ref rules and repositories can be edited; to replace a key everywhere, rotate it (gatehouse deploy-key rotate)."
        case .keyIsCertificateAuthority:
            "This key is already a certificate authority, so it cannot also be a login key. Generate a separate key for the machine or account (ssh-keygen -t ed25519) and add that."
        case .keyIsNotCertificateAuthority:
            "This key is already a deployment key, so it cannot also be a certificate authority. Use the CA's own key (the one you sign certificates with)."
        case .certificatePrincipalsDiffer:
            "This certificate authority is already trusted elsewhere with other principals, and an authority has one set of principals. Give the same principals (ask whoever added it), or use a separate CA."
        case .seatLimitReached(let workspace, let limit):
            "Workspace \(workspace) has used all \(limit) seats of its plan. Raise the seat limit or remove a member first (deployment keys do not use seats)."
        }
    }
}

/// An error of a part below the services (the database driver) that knows which `GatehouseError` it is: a full disk
/// or a locked database is the server's condition, not a fault, and every door says so in its own way.
public protocol GatehouseErrorConvertible: Error {
    var gatehouseError: GatehouseError { get }
}
