import Foundation

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
/// Thrown only inside `GatehouseError.accessDenied`, so that every door has one error type to map.
public enum AccessDenial: Sendable, Equatable, CustomStringConvertible {
    /// The repository does not exist or the principal may not read it: indistinguishable on purpose.
    case notFound(String)
    case readOnlyDeployKey(label: String, fingerprint: String, repository: String)
    case readOnlyAccount(username: String, repository: String)
    case notAdministrator(repository: String)
    /// The account may, but the API token it used lacks the scope.
    case missingScope(TokenScope)
    /// The request needs an account and came without credentials.
    case signInRequired
    /// Only workspace administrators and owners may do this.
    case notWorkspaceAdministrator(workspace: String)
    /// Another person's account, or none: indistinguishable on purpose.
    case accountNotFound(String)
    /// The key's attachment may push, but its workspace's policy allows no write-enabled deployment keys.
    case writeDisabledByWorkspace(label: String, workspace: String)
    /// A write-enabled deployment key's push changes refs its rules do not allow; nothing was written.
    case refsRefused(label: String, rules: [RefRule], refused: [RefUpdate])
    /// A registration token that expired or has no uses left.
    case registrationTokenSpent(String)
    /// A registration secret that names no token (never made, revoked, or another workspace's).
    case unknownRegistrationToken
    /// The deployment key's attachment to the repository expired.
    case deployKeyExpired(label: String, on: Date, repository: String)
    /// The account key expired.
    case accountKeyExpired(label: String, fingerprint: String, on: Date)

    public var category: ErrorCategory {
        switch self {
        case .notFound, .accountNotFound: .notFound
        case .signInRequired, .unknownRegistrationToken: .unauthenticated
        case .readOnlyDeployKey, .readOnlyAccount, .notAdministrator, .missingScope, .notWorkspaceAdministrator, .writeDisabledByWorkspace,
            .refsRefused, .registrationTokenSpent, .deployKeyExpired, .accountKeyExpired:
            .denied
        }
    }

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
        case .missingScope(let scope):
            "This API token lacks the \(scope.rawValue) scope. Create a token that has it: gatehouse token create NAME --scope \(scope.rawValue)."
        case .notWorkspaceAdministrator(let workspace):
            "Only administrators of the workspace \(workspace) can do this. Ask a workspace owner to make you an administrator."
        case .accountNotFound(let name):
            "No user named '\(name)' that you can manage. Check the name; people manage only their own keys and tokens."
        case .writeDisabledByWorkspace(let label, let workspace):
            "The deployment key '\(label)' is write-enabled, but workspace \(workspace) allows no write-enabled deployment keys, so it acts read-only. Ask a workspace administrator to allow them, or push with an account key."
        case .refsRefused(let label, let rules, let refused):
            "deployment key '\(label)' may \(Self.describe(rules)) only; \(refused.map { "\($0.ref) (\($0.operation.rawValue))" }.joined(separator: ", ")) refused."
        case .deployKeyExpired(let label, let date, let repository):
            "the deployment key '\(label)' expired on \(Self.day(date)); ask an administrator of \(repository) for a new one."
        case .accountKeyExpired(let label, let fingerprint, let date):
            "the SSH key '\(label)' (\(fingerprint)) expired on \(Self.day(date)); add a new key to your account (ssh-keygen -t ed25519)."
        case .unknownRegistrationToken:
            "The registration token is unknown or was revoked (or is for another workspace). Ask a workspace administrator for a new one (gatehouse registration-token create WORKSPACE)."
        case .registrationTokenSpent(let why):
            "This registration token \(why). Ask a workspace administrator for a new one (gatehouse registration-token create WORKSPACE)."
        case .signInRequired:
            "Authentication required. Send an API token: HTTP Basic with USERNAME:TOKEN, or Authorization: Bearer TOKEN."
        }
    }
}

extension AccessDenial {
    /// `2026-12-01`, the UTC day.
    public static func day(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().dateSeparator(.dash))
    }

    /// "create refs/tags/v*, create or update refs/heads/release/**"
    static func describe(_ rules: [RefRule]) -> String {
        rules.map { rule in
            let names = rule.sortedOperations.map(\.rawValue)
            let operations = names.count > 1 ? names.dropLast().joined(separator: ", ") + " or " + names.last! : names.joined()
            return "\(operations) \(rule.pattern)"
        }.joined(separator: ", ")
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
            return key.grants(for: repository).map(\.effectiveAccess).max() ?? .none
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
        // An expired account key may do nothing; an expired deployment key attachment is refused below, where it would have applied.
        if case .account = principal, let expired = expiredEverywhere(principal) { return .denied(expired) }
        let level = level(of: principal, on: repository, accountGrants: accountGrants)
        if level < .read, case .deployKey(let key) = principal, let gone = key.expired.first(where: { $0.scope.covers(repository) }),
            let date = gone.expiresAt
        {
            return .denied(.deployKeyExpired(label: gone.label, on: date, repository: repository.fullName))
        }
        guard level >= .read else { return .denied(.notFound(requestedPath)) }
        guard level < operation.requiredLevel else { return .allowed(level) }
        switch (operation, principal) {
        case (.write, .deployKey(let key)):
            let grants = key.grants(for: repository)
            if let disabled = grants.first(where: { $0.access >= .write && !$0.writeAllowedByWorkspace }) {
                return .denied(.writeDisabledByWorkspace(label: disabled.label, workspace: repository.workspaceSlug))
            }
            let label = grants.first?.label ?? "?"
            return .denied(.readOnlyDeployKey(label: label, fingerprint: key.fingerprint, repository: repository.fullName))
        case (.write, .account(let user, _)):
            return .denied(.readOnlyAccount(username: user.username, repository: repository.fullName))
        default:
            return .denied(.notAdministrator(repository: repository.fullName))
        }
    }

    /// The refusal for a key that has expired wherever it was attached (or an expired account key): it may do
    /// nothing, `ssh -T` included. Nil while it has a live attachment.
    public static func expiredEverywhere(_ principal: Principal) -> AccessDenial? {
        switch principal {
        case .account(_, let key):
            guard let key, let expired = key.expiredOn else { return nil }
            return .accountKeyExpired(label: key.label ?? "", fingerprint: key.fingerprint, on: expired)
        case .deployKey(let key):
            guard key.grants.isEmpty, let gone = key.expired.first, let date = gone.expiresAt else { return nil }
            return .deployKeyExpired(label: gone.label, on: date, repository: gone.scope.name)
        }
    }

    /// The ref check of a write-enabled deployment key's push (run before anything is written): every update
    /// must be allowed by a rule of one of the key's write grants on the repository, else the whole push is
    /// refused, naming each refused ref. Nil when it may go ahead.
    public static func checkPush(_ key: DeployKeyPrincipal, to repository: Repository, updates: [RefUpdate]) -> AccessDenial? {
        let grants = key.grants(for: repository).filter { $0.effectiveAccess >= .write }
        let rules = grants.flatMap(\.refRules)
        let refused = updates.filter { update in !rules.contains { $0.allows(update.operation, on: update.ref) } }
        guard !refused.isEmpty else { return nil }
        // Asked only after `decide` allowed the write, so a write grant names the key.
        return .refsRefused(label: grants.first?.label ?? "?", rules: rules, refused: refused)
    }

    /// The decision for a management request (API, web, CLI): the actor's account permissions through
    /// `decide`, then the token's scopes. The operator may do anything to an existing repository; anonymous
    /// callers may read public repositories and nothing else.
    public static func authorize(
        _ actor: Actor, operation: Operation, on repository: Repository?, requestedPath: String,
        accountGrants: AccountGrants = AccountGrants()
    ) -> AccessDecision {
        switch actor {
        case .localOperator:
            guard repository != nil else { return .denied(.notFound(requestedPath)) }
            return .allowed(.admin)
        case .anonymous:
            guard let repository, !repository.isPrivate else { return .denied(.notFound(requestedPath)) }
            return operation == .read ? .allowed(.read) : .denied(.signInRequired)
        case .user(let user, let scopes):
            let decision = decide(
                .account(user, key: nil), operation: operation, on: repository,
                requestedPath: requestedPath, accountGrants: accountGrants)
            // Scopes are checked after visibility so that a weak token cannot probe for private names.
            guard case .allowed = decision else { return decision }
            let needed = TokenScope.required(for: operation)
            return scopes.allows(needed) ? decision : .denied(.missingScope(needed))
        }
    }

    /// Whether the actor may read (or, with `write`, change) the SSH keys and tokens of `owner`'s account.
    /// Nil when allowed; other people's accounts are "not found".
    public static func authorizeAccount(_ actor: Actor, owner: User, write: Bool) -> AccessDenial? {
        switch actor {
        case .localOperator: return nil
        case .anonymous: return .signInRequired
        case .user(let user, let scopes):
            guard user.id == owner.id else { return .accountNotFound(owner.username) }
            let needed: TokenScope = write ? .accountWrite : .account
            return scopes.allows(needed) ? nil : .missingScope(needed)
        }
    }

    /// Whether the actor may administer a workspace (create repositories in it, read its audit log).
    /// - Parameter role: the actor's role in the workspace, nil when not a member.
    public static func authorizeWorkspace(_ actor: Actor, workspace: String, role: WorkspaceRole?) -> AccessDenial? {
        switch actor {
        case .localOperator: return nil
        case .anonymous: return .signInRequired
        case .user(_, let scopes):
            guard let role, role.impliedRepositoryAccess >= .admin else { return .notWorkspaceAdministrator(workspace: workspace) }
            return scopes.allows(.repositoryAdmin) ? nil : .missingScope(.repositoryAdmin)
        }
    }
}
