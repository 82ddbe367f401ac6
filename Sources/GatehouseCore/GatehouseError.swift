import GatehouseKeys

/// A refused request. Every case says what was wrong and what to do; nothing was changed.
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
    /// The key is already some account's key (maybe another person's).
    case keyAlreadyRegistered
    case keyAlreadyOnRepository(String)
    case keyCannotChange
    case accountKeyCannotChange
    case seatLimitReached(workspace: String, limit: Int)
    case invalidArgument(String)
    /// The key is stored as a certificate authority and is being added as something else, or the reverse.
    case keyIsCertificateAuthority
    case keyIsNotCertificateAuthority
    case certificatePrincipalsDiffer

    public var description: String {
        switch self {
        case .invalidKey(let error): error.description
        case .invalidName(let message), .invalidLabel(let message), .notFound(let message),
             .alreadyExists(let message), .invalidArgument(let message):
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
        case .accountKeyCannotChange:
            "The key of an SSH key can't be changed; delete it and add the new key. Only the label can be edited."
        case .keyCannotChange:
            "The key of a deployment key can't be changed; delete it and add the new key. Only the label can be edited."
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
