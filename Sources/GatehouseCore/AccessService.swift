import Foundation

/// A Git command that may run: where, and on behalf of whom.
public struct AuthorizedGitCommand: Sendable, Equatable {
    public var service: GitService
    public var repository: Repository
    public var level: AccessLevel
    /// A push by a deployment key: git must run the pre-receive hook that checks each ref against this key's rules
    /// (`AccessService.checkPush`). The server sets it, so no client can name another key.
    public var refRulesOf: UUID? = nil
    /// A line for stderr before git runs (a key that expires soon).
    public var warning: String? = nil
}

/// What an SSH session does for a client's request, decided the same way by every SSH front end.
public enum SessionOutcome: Sendable, Equatable {
    /// Print this on stderr and exit with this status: the `ssh -T` greeting or a refusal.
    case message(String, exitStatus: Int32)
    /// Run git.
    case git(AuthorizedGitCommand)

    /// A refusal as every front end prints it: `ERROR: reason`, exit status 1.
    public static func refusal(_ reason: String) -> SessionOutcome { .message("ERROR: \(reason)\n", exitStatus: 1) }

    /// The message of a `.message` outcome.
    public var text: String {
        if case .message(let text, _) = self { return text }
        return ""
    }

    /// The key authenticated earlier but has been removed since.
    public static let keyRemoved = refusal("This key is no longer registered with Gatehouse.")

    /// Git could not be started, or the repository's directory is missing or escapes the repository root.
    public static func gitFailed(_ repository: Repository) -> SessionOutcome {
        refusal("The server could not run git for \(repository.fullName).")
    }
}

/// Answers every door's questions about SSH principals: who a key is, whether a Git command may run,
/// and what `ssh -T` says. Records key use and denied pushes.
public struct AccessService: Sendable {
    public let store: Store
    public let authorizer: Authorizer
    public let clock: @Sendable () -> Date
    /// Key use is written at most this often per key, to keep clones from writing to the database.
    public let lastUsedThrottle: TimeInterval

    /// Keyed by key id and attachment: the same key used on another repository has its own last-used time.
    private let uses: UseThrottle<KeyUse>
    /// Stored principals, each trusted only at the data version it was read at.
    private let principals = DataVersionCache<KeyLocator, Principal>(capacity: 4096)

    public init(store: Store, lastUsedThrottle: TimeInterval = 60, clock: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.authorizer = Authorizer(store: store)
        self.lastUsedThrottle = lastUsedThrottle
        self.clock = clock
        self.uses = UseThrottle(interval: lastUsedThrottle)
    }

    /// The principal for a key that has proven possession (signature verified), or nil if unknown.
    public func principal(fingerprint: String) async throws -> Principal? {
        try await principal(.fingerprint(fingerprint))
    }

    /// The principal for a stored key's id (the OpenSSH forced command carries it); nil once the key is gone.
    public func principal(keyID: UUID) async throws -> Principal? {
        try await principal(.id(keyID))
    }

    /// The principal for a key however the session names it, as of now; nil once the key is gone. Read through
    /// `principals`, so that a connection's sessions and the running-session watcher read the key once per change.
    public func principal(_ key: KeyLocator) async throws -> Principal? {
        try await principals.value(for: key, at: store.dataVersion()) { try await storedPrincipal(key) }?.asOf(clock())
    }

    /// Whether a running git session may go on, decided again from the stored data: nil while it may, else the
    /// message that ends it. Nothing is recorded, so asking again after every change costs only the reads.
    public func recheck(_ command: AuthorizedGitCommand, key: KeyLocator) async throws -> String? {
        guard let principal = try await principal(key) else {
            return SessionOutcome.refusal("This key was removed from Gatehouse while the session ran; the session has ended.").text
        }
        let path = RepositoryPath(parsing: command.repository.fullName)
        let repository = if let path { try await store.directory.repository(path, on: store.reads) } else { Repository?.none }
        let decision = try await authorizer.decide(principal, command.service.operation, on: repository, requestedPath: command.repository.fullName)
        guard case .denied(let denial) = decision else { return nil }
        return SessionOutcome.refusal("Access changed while the session ran, and the session has ended: \(denial.description)").text
    }

    /// The principal as stored, expired parts and all: `principal(_:)` applies the time, which moves on
    /// without any change to the data.
    private func storedPrincipal(_ locator: KeyLocator) async throws -> Principal? {
        let stored: StoredKey? =
            switch locator {
            case .fingerprint(let fingerprint): try await store.keys.key(fingerprint: fingerprint, on: store.reads)
            case .id(let id): try await store.keys.key(id: id, on: store.reads)
            }
        guard let key = stored else { return nil }
        // A certificate authority's key is no login key: it only vouches for certificates, which sshd checks
        // (and the forced command, which names the authority by id).
        if case .fingerprint = locator, !key.kind.logsInWithItsOwnKey { return nil }
        var reference = KeyReference(id: key.id, fingerprint: key.fingerprint, label: key.label)
        reference.expiresAt = key.expiresAt
        switch key.kind {
        case .account:
            guard let userID = key.userID, let user = try await store.accounts.user(id: userID, on: store.reads) else { return nil }
            return Principal.account(user, key: reference)
        case .deploy, .certificateAuthority:
            let repositoryGrants = try await store.keys.deployKeys(.key(key.id), on: store.reads).map { deployKey in
                DeployKeyGrant(
                    attachment: .repository(deployKey.id), label: deployKey.label,
                    scope: .repository(id: deployKey.repository.id, fullName: deployKey.repository.fullName), access: deployKey.access,
                    refRules: deployKey.refRules, writeAllowedByWorkspace: deployKey.workspaceAllowsWrite, expiresAt: deployKey.expiresAt)
            }
            let workspaceGrants = try await store.keys.workspaceDeployKeys(.key(key.id), on: store.reads).map { attached in
                DeployKeyGrant(
                    attachment: .workspace(attached.id), label: attached.label,
                    scope: .workspace(id: attached.workspace.id, slug: attached.workspace.slug, selector: attached.selector),
                    access: attached.access, refRules: attached.refRules, writeAllowedByWorkspace: attached.workspace.allowWriteDeployKeys,
                    expiresAt: attached.expiresAt)
            }
            let grants = repositoryGrants + workspaceGrants
            guard !grants.isEmpty else { return nil }
            return Principal.deployKey(DeployKeyPrincipal(keyID: key.id, fingerprint: key.fingerprint, grants: grants))
        }
    }

    /// Decides what a session does: `command` is the exec request or `SSH_ORIGINAL_COMMAND`, nil for a shell.
    public func outcome(of command: String?, principal authenticated: Principal, sourceIP: String?) async -> SessionOutcome {
        let principal = authenticated.asOf(clock())
        if let expired = Access.expiredEverywhere(principal) { return .refusal(expired.description) }
        guard let command else {
            guard let greeting = try? await greeting(for: principal) else {
                return .refusal("The server could not list your repositories; try again.")
            }
            return .message(greeting, exitStatus: 0)
        }
        do {
            return .git(try await authorize(try GitCommand(parsing: command), principal: principal, sourceIP: sourceIP))
        } catch let error as GitCommand.ParseError {
            return .refusal(error.description)
        } catch GatehouseError.accessDenied(let denial) {
            return .refusal(denial.description)
        } catch {
            return .refusal("The server could not check access; try again.")
        }
    }

    /// Decides a parsed Git command for a principal. A denied push is audited.
    public func authorize(_ command: GitCommand, principal: Principal, sourceIP: String?) async throws -> AuthorizedGitCommand {
        let repository: Repository? = if let path = command.path { try await store.directory.repository(path, on: store.reads) } else { nil }
        let decision = try await authorizer.decide(principal, command.service.operation, on: repository, requestedPath: command.requestedPath)
        switch decision {
        case .allowed(let level):
            // Last use is bookkeeping: a busy database must not fail a clone over it.
            try? await recordUse(principal, repository: repository!, service: command.service, sourceIP: sourceIP)
            var authorized = AuthorizedGitCommand(service: command.service, repository: repository!, level: level)
            if command.service == .receivePack, case .deployKey(let key) = principal { authorized.refRulesOf = key.keyID }
            authorized.warning = expiryWarning(principal, repository: repository!)
            return authorized
        case .denied(let denial):
            if command.service == .receivePack, let repository, denial != .notFound(command.requestedPath) {
                try await store.audit.append(
                    AuditEntry(
                        at: clock(), actor: principal.auditName, action: .pushDenied,
                        object: repository.fullName, detail: denial.description,
                        sourceIP: sourceIP, workspaceID: repository.workspaceID), on: store.db)
            }
            throw GatehouseError.accessDenied(denial)
        }
    }

    /// How far ahead a key's coming expiry is announced on every git operation.
    public static let expiryWarningWindow: TimeInterval = 7 * 86_400

    /// `warning: …` for stderr while the key (or its attachment) expires within a week.
    func expiryWarning(_ principal: Principal, repository: Repository) -> String? {
        let expiry: Date?
        let what: String
        switch principal {
        case .account(_, let key):
            expiry = key?.expiresAt
            what = "SSH key '\(key?.label ?? "")'"
        case .deployKey(let key):
            let covering = key.grants(for: repository)
            expiry = covering.contains { $0.expiresAt == nil } ? nil : covering.compactMap(\.expiresAt).max()
            what = "deployment key"
        }
        guard let expiry, expiry.timeIntervalSince(clock()) <= Self.expiryWarningWindow else { return nil }
        return "warning: this \(what) expires on \(AccessDenial.day(expiry)) (\(KeyNotices.expiresIn(expiry, now: clock())))\n"
    }

    /// The pre-receive check of a deployment key's push, run before anything is written: nil when every ref
    /// update is allowed by the key's rules on the repository, else the refusal for stderr (and a `push.denied`
    /// audit entry). The key is re-read, so a key removed or changed since the connection began is refused.
    public func checkPush(keyID: UUID, repository fullName: String, updates: [RefUpdate], sourceIP: String?) async throws -> String? {
        guard let principal = try await principal(keyID: keyID), case .deployKey(let key) = principal else {
            return SessionOutcome.keyRemoved.text
        }
        guard let path = RepositoryPath(parsing: fullName), let repository = try await store.directory.repository(path, on: store.reads) else {
            return AccessDenial.notFound(fullName).description
        }
        let denial: AccessDenial? =
            switch Access.decide(principal, operation: .write, on: repository, requestedPath: fullName) {
            case .denied(let denial): denial
            case .allowed: Access.checkPush(key, to: repository, updates: updates)
            }
        guard let denial else { return nil }
        try await store.audit.append(
            AuditEntry(
                at: clock(), actor: principal.auditName, action: .pushDenied, object: repository.fullName, detail: denial.description,
                sourceIP: sourceIP, workspaceID: repository.workspaceID), on: store.db)
        return "ERROR: \(denial.description)\n"
    }

    /// Audits every ref a deployment key's push changed (after git wrote them), in one unit of work.
    public func recordPush(keyID: UUID, repository fullName: String, changes: [RefChange], sourceIP: String?) async throws {
        guard let principal = try await principal(keyID: keyID),
            let path = RepositoryPath(parsing: fullName), let repository = try await store.directory.repository(path, on: store.reads)
        else { return }
        let now = clock()
        let entries = changes.map { change in
            AuditEntry(
                at: now, actor: principal.auditName, action: .refChanged, object: repository.fullName,
                detail: "\(change.update.ref) \(change.old.prefix(12)) → \(change.new.prefix(12)) (\(change.update.operation.rawValue))",
                sourceIP: sourceIP, workspaceID: repository.workspaceID)
        }
        let store = store
        try await store.transaction { tx in
            for entry in entries { try await store.audit.append(entry, on: tx) }
        }
    }

    /// What `ssh -T git@host` prints: who the key is and what it can reach.
    public func greeting(for principal: Principal) async throws -> String {
        switch principal {
        case .account(let user, let key):
            let repositories = try await store.directory.grantedRepositories(of: user.id, on: store.reads)
            let readable = repositories.map(\.0.fullName).sorted()
            let writable = repositories.filter { $0.1 >= .write }.map(\.0.fullName).sorted()
            return """
                Hi \(user.username)! You've authenticated with an account key\(key.map { " (\($0.fingerprint))" } ?? ""), but Gatehouse does not provide shell access.
                You can read: \(readable.isEmpty ? "(no private repositories yet)" : Self.named(readable, separator: ", ")), and every public repository.
                You can write: \(writable.isEmpty ? "(none)" : Self.named(writable, separator: ", ")).

                """
        case .deployKey(let key):
            let labels = Set(key.grants.map(\.label)).sorted().map { "\"\($0)\"" }.joined(separator: ", ")
            var readable: [String] = []
            for grant in key.grants { readable.append(try await reach(of: grant)) }
            let writable = key.grants.filter { $0.access >= .write }.map { grant in
                let rules = AccessDenial.describe(grant.refRules)
                return grant.writeAllowedByWorkspace
                    ? "\(grant.scope.name) (\(rules))" : "\(grant.scope.name) (\(rules); off: the workspace allows no write-enabled deployment keys)"
            }
            return """
                Hi! This is deployment key \(labels) (\(key.fingerprint)), but Gatehouse does not provide shell access.
                It can read: \(Self.named(readable.sorted(), separator: ", ")).
                It can write: \(writable.isEmpty ? "(none: deployment keys are read-only)" : Self.named(writable.sorted(), separator: "; ")).

                """
        }
    }

    /// Longest list of repositories `ssh -T` names in one place; the rest are counted.
    static let greetingListLimit = 20

    /// The first `greetingListLimit` names and how many more there are.
    static func named(_ names: [String], separator: String) -> String {
        let more = names.count > greetingListLimit ? " and \(names.count - greetingListLimit) more" : ""
        return names.prefix(greetingListLimit).joined(separator: separator) + more
    }

    /// Where a grant reaches: the repository, or the workspace selector with the repositories it covers now.
    private func reach(of grant: DeployKeyGrant) async throws -> String {
        guard case .workspace(_, let slug, let selector) = grant.scope, let workspace = try await store.directory.workspace(slug: slug, on: store.reads)
        else { return grant.scope.name }
        let covered = try await store.directory.repositories(in: workspace, on: store.reads).filter { selector.covers($0.slug) }.map(\.fullName)
        return "\(grant.scope.name): \(covered.count) repositories now\(covered.isEmpty ? "" : " (\(Self.named(covered, separator: ", ")))")"
    }

    /// Records the key's use (throttled) and, on its first use of the day in the repository's workspace, says so
    /// in that workspace's audit log: every workspace whose repository a key read sees it, whoever attached it.
    private func recordUse(_ principal: Principal, repository: Repository, service: GitService, sourceIP: String?) async throws {
        let now = clock()
        let keyID: UUID
        let attachment: AttachmentID?
        switch principal {
        case .account(_, let key):
            guard let key else { return }
            (keyID, attachment) = (key.id, nil)
        case .deployKey(let key):
            (keyID, attachment) = (key.keyID, key.grants(for: repository).first?.attachment)
        }
        guard uses.shouldRecord(KeyUse(key: keyID, attachment: attachment, workspace: repository.workspaceID), at: now) else { return }
        try await store.keys.recordUse(keyID: keyID, attachment: attachment, at: now, ifUnusedSince: uses.cutoff(at: now), on: store.db)
        let entry = AuditEntry(
            at: now, actor: principal.auditName, action: .keyUsed, object: repository.fullName,
            detail: "first use today (\(service.rawValue))", sourceIP: sourceIP, workspaceID: repository.workspaceID)
        let store = store
        // One unit of work: the day is claimed only together with its entry, so a failed append loses neither.
        try await store.transaction { tx in
            if try await store.keys.recordFirstUse(
                keyID: keyID, workspaceID: repository.workspaceID, at: now, since: ExpiryDate.startOfUTCDay(now), on: tx)
            {
                try await store.audit.append(entry, on: tx)
            }
        }
    }
}

/// One ref a push changed, with the commits before and after.
public struct RefChange: Sendable, Equatable {
    public var update: RefUpdate
    public var old: String
    public var new: String

    public init(update: RefUpdate, old: String, new: String) {
        self.update = update
        self.old = old
        self.new = new
    }
}

/// How a session names the key it authenticated with: the built-in server by fingerprint, the OpenSSH forced
/// command by the stored key's id (which `authorized-keys` put on its command line).
public enum KeyLocator: Hashable, Sendable {
    case fingerprint(String)
    case id(UUID)
}

/// A key's use on one attachment in one workspace, for the last-used throttle.
struct KeyUse: Hashable, Sendable {
    var key: UUID
    var attachment: AttachmentID?
    var workspace: UUID
}

extension Principal {
    /// How the principal appears in the audit log.
    public var auditName: String {
        switch self {
        case .account(let user, _): user.username
        case .deployKey(let key): "deploy-key \(key.fingerprint)"
        }
    }
}
