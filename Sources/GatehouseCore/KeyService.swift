import Foundation
import GatehouseKeys

/// Adds, renames and removes SSH keys with every rule, audit entry and notice, whoever calls it
/// (CLI, API, web). Each change is one unit of work; the schema's constraints back the rules up against
/// concurrent requests.
public struct KeyService: Sendable {
    public let store: Store
    public let authorizer: Authorizer
    public let clock: @Sendable () -> Date

    public init(store: Store, clock: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.authorizer = Authorizer(store: store)
        self.clock = clock
    }

    /// Attaches one key to one or more repositories, each attachment with its own id and the same label.
    /// The actor must administer every repository; all attachments are made or none.
    /// With `certificatePrincipals`, the key is a certificate authority: machines clone with certificates it
    /// signed for one of those principals (through the OpenSSH front end), and the key itself logs in nowhere.
    public func addDeployKey(
        actor: Actor, repositories fullNames: [String], label: String, keyText: String,
        certificatePrincipals: [String]? = nil, permission: KeyPermission = .readOnly, expiresAt: Date? = nil, sourceIP: String? = nil
    ) async throws -> [DeployKey] {
        guard !fullNames.isEmpty else { throw GatehouseError.invalidArgument("Name at least one repository (WORKSPACE/REPOSITORY).") }
        let key = try Self.parse(keyText)
        let label = try Names.validateLabel(label)
        let principals = try certificatePrincipals.map(CertificatePrincipals.validate)
        var repositories: [Repository] = []
        for name in fullNames {
            let repository = try await authorizer.repository(name, actor: actor, operation: .administer)
            if !repositories.contains(repository) { repositories.append(repository) }
        }
        for repository in repositories {
            try await checkPolicy(permission, workspace: repository.workspaceSlug)
            try await checkLifetime(expiresAt, workspace: repository.workspaceSlug)
        }
        let now = clock()
        let store = store
        let targets = repositories
        return try await disclosingKind(to: actor, of: key.fingerprint) {
            try await store.transaction { tx in
                let keyID = try await Self.storedKeyID(key, principals: principals, at: now, store: store, on: tx)
                var attached: [DeployKey] = []
                for repository in targets {
                    let attachment = NewAttachment(
                        keyID: keyID, repositoryID: repository.id, label: label, access: permission.access, refRules: permission.refRules,
                        addedBy: actor.user?.id, addedAt: now, expiresAt: expiresAt)
                    attached.append(try await Self.attach(attachment, to: repository, by: actor, sourceIP: sourceIP, store: store, on: tx))
                }
                return attached
            }
        }
    }

    /// Attaches a stored key to a repository and announces it (audit entry, the administrators' mail) in `tx`;
    /// "once per repository" is the schema's constraint, reported by name.
    static func attach(
        _ attachment: NewAttachment, to repository: Repository, by actor: Actor, sourceIP: String?, store: Store, on tx: any StoreHandle
    ) async throws -> DeployKey {
        let id = try await store.unique(.keyAlreadyOnRepository(repository.fullName)) { try await store.keys.attach(attachment, on: tx) }
        guard let deployKey = try await store.keys.deployKeys(.one(id, repository: repository.id), on: tx).first else {
            throw GatehouseError.internalFailure("Deployment key \(id) was not found right after it was added.")
        }
        let administrators = try await store.directory.administrators(of: repository, on: tx)
        try await store.record(KeyNotices.deployKeyAddedChange(deployKey, by: actor, sourceIP: sourceIP, recipients: administrators), on: tx)
        return deployKey
    }

    /// The id of the stored deployment key (or certificate authority) for `key`, made now if it is new; refused when
    /// the key is stored as something else.
    static func storedKeyID(_ key: PublicKey, principals: [String]?, at now: Date, store: Store, on tx: any StoreHandle) async throws -> UUID {
        let kind: KeyKind = principals == nil ? .deploy : .certificateAuthority
        if let existing = try await store.keys.key(fingerprint: key.fingerprint, on: tx) {
            try Self.checkAttachable(existing, as: kind, principals: principals)
            return existing.id
        }
        let stored = StoredKey(
            id: UUID(), kind: kind, fingerprint: key.fingerprint, publicKey: key.openSSH, comment: key.comment,
            userID: nil, label: nil, createdAt: now, lastUsed: nil, principals: principals ?? [])
        // Another request may have registered the key since the read: the constraint says so.
        try await store.unique(.keyIsAccountKey) { try await store.keys.insert(stored, on: tx) }
        return stored.id
    }

    /// A write-enabled key is refused where the workspace's policy allows none.
    func checkPolicy(_ permission: KeyPermission, workspace slug: String) async throws {
        guard permission.access >= .write, let workspace = try await store.directory.workspace(slug: slug, on: store.db),
            !workspace.allowWriteDeployKeys
        else { return }
        throw GatehouseError.writeKeysNotAllowed(workspace: slug)
    }

    /// A deployment key's row goes with its last attachment (repository or workspace), so that a key removed
    /// everywhere is unknown again, and can be added anew as anything.
    static func forgetIfUnused(_ keyID: UUID, store: Store, on tx: any StoreHandle) async throws {
        if try await store.keys.attachmentCount(keyID: keyID, on: tx) == 0 { try await store.keys.deleteKey(id: keyID, on: tx) }
    }

    /// An expiry in the past is refused; under the workspace policy `max_deploy_key_lifetime_days` a key needs an
    /// expiry within it.
    func checkLifetime(_ expiresAt: Date?, workspace slug: String) async throws {
        let now = clock()
        try ExpiryDate.requireFuture(expiresAt, now: now)
        guard let workspace = try await store.directory.workspace(slug: slug, on: store.db), let days = workspace.maxDeployKeyLifetimeDays,
            let latest = workspace.latestDeployKeyExpiry(now: now)
        else { return }
        guard let expiresAt, expiresAt <= latest else {
            throw GatehouseError.invalidArgument(
                "Workspace \(slug) allows deployment keys for at most \(days) days (its policy max_deploy_key_lifetime_days): give an expiry no later than \(AccessDenial.day(latest)), e.g. --expires \(days)d (API: \"expires_on\")."
            )
        }
    }

    /// Runs `body`, which may refuse a key because it is stored as something else. The refusal names what the key
    /// is only to a caller who holds that other use (its own account key; a deployment key or authority it
    /// administers somewhere; the operator): anyone else hears Bitbucket's neutral "Someone has already registered
    /// that SSH key", so that adding another tenant's key tells nothing about it.
    func disclosingKind<T: Sendable>(to actor: Actor, of fingerprint: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as GatehouseError where error.namesOtherUseOfKey {
            guard try await holdsUse(actor, of: fingerprint) else { throw GatehouseError.keyAlreadyRegistered }
            throw error
        }
    }

    private func holdsUse(_ actor: Actor, of fingerprint: String) async throws -> Bool {
        if actor == .localOperator { return true }
        guard let existing = try await store.keys.key(fingerprint: fingerprint, on: store.db) else { return false }
        if existing.kind == .account { return existing.userID != nil && existing.userID == actor.user?.id }
        return try await !usage(actor: actor, fingerprint: fingerprint).isEmpty
    }

    /// "A key is an account's key or a deployment key, never both"; "an authority has one set of principals".
    static func checkAttachable(_ existing: StoredKey, as kind: KeyKind, principals: [String]?) throws {
        switch (existing.kind, kind) {
        case (.deploy, .deploy): return
        case (.certificateAuthority, .certificateAuthority):
            guard Set(existing.principals) == Set(principals ?? []) else { throw GatehouseError.certificatePrincipalsDiffer }
        case (.certificateAuthority, _): throw GatehouseError.keyIsCertificateAuthority
        case (.deploy, _): throw GatehouseError.keyIsNotCertificateAuthority
        case (.account, _): throw GatehouseError.keyIsAccountKey
        }
    }

    /// One window of a repository's deployment keys, by id, and how many it has.
    public func listDeployKeys(actor: Actor, repository fullName: String, window: ListWindow) async throws -> ListPage<DeployKey> {
        let repository = try await authorizer.repository(fullName, actor: actor, operation: .administer)
        return try await ListPage.load(
            window, items: { try await store.keys.deployKeys(.repository(repository.id), window: $0, on: store.db) },
            count: { try await store.keys.deployKeyCount(.repository(repository.id), upTo: $0, on: store.db) })
    }

    public func deployKey(actor: Actor, repository fullName: String, id: Int) async throws -> DeployKey {
        let repository = try await authorizer.repository(fullName, actor: actor, operation: .administer)
        guard let deployKey = try await store.keys.deployKeys(.one(id, repository: repository.id), on: store.db).first else {
            throw GatehouseError.notFound(
                "No deployment key \(id) on \(repository.fullName). List them with `gatehouse deploy-key list \(repository.fullName)`.")
        }
        return deployKey
    }

    /// Changes the label. `keyText`, when given, must be the key already stored: keys cannot be swapped.
    public func renameDeployKey(
        actor: Actor, repository fullName: String, id: Int, label: String, keyText: String? = nil,
        sourceIP: String? = nil
    ) async throws -> DeployKey {
        try await editDeployKey(actor: actor, repository: fullName, id: id, label: label, keyText: keyText, sourceIP: sourceIP)
    }

    /// Changes the label and/or the permission (read, or write with ref rules); never the key. `keyText`, when
    /// given, must be the key already stored. Each change is audited.
    public func editDeployKey(
        actor: Actor, repository fullName: String, id: Int, label newLabel: String? = nil, permission: KeyPermission? = nil,
        keyText: String? = nil, sourceIP: String? = nil
    ) async throws -> DeployKey {
        var deployKey = try await deployKey(actor: actor, repository: fullName, id: id)
        if let keyText, try Self.parse(keyText).fingerprint != deployKey.key.fingerprint { throw GatehouseError.keyCannotChange }
        let label = try newLabel.map { label throws(GatehouseError) in try Names.validateLabel(label) }
        if let permission { try await checkPolicy(permission, workspace: deployKey.repository.workspaceSlug) }
        let now = clock()
        var entries: [AuditEntry] = []
        if let label, label != deployKey.label {
            entries.append(
                AuditEntry(
                    at: now, actor: actor.auditName, action: .deployKeyRenamed, object: deployKey.repository.fullName,
                    detail: "deploy key \(id): \"\(deployKey.label)\" → \"\(label)\"", sourceIP: sourceIP,
                    workspaceID: deployKey.repository.workspaceID))
        }
        let before = try KeyPermission(access: deployKey.access, rules: deployKey.refRules)
        if let permission, permission != before {
            entries.append(
                AuditEntry(
                    at: now, actor: actor.auditName, action: .deployKeyPermissionChanged, object: deployKey.repository.fullName,
                    detail: "deploy key \(id) \"\(deployKey.label)\": \(before.summary) → \(permission.summary)", sourceIP: sourceIP,
                    workspaceID: deployKey.repository.workspaceID))
        }
        let store = store
        let audit = entries
        try await store.transaction { tx in
            if let label { try await store.keys.setAttachmentLabel(label, id: id, on: tx) }
            if let permission { try await store.keys.setAttachmentAccess(permission.access, refRules: permission.refRules, id: id, on: tx) }
            for entry in audit { try await store.audit.append(entry, on: tx) }
        }
        if let label { deployKey.label = label }
        if let permission {
            deployKey.access = permission.access
            deployKey.refRules = permission.refRules
        }
        return deployKey
    }

    /// Detaches the key from the repository; the key row goes too when nothing else uses it.
    public func removeDeployKey(actor: Actor, repository fullName: String, id: Int, sourceIP: String? = nil) async throws {
        let deployKey = try await deployKey(actor: actor, repository: fullName, id: id)
        let entry = AuditEntry(
            at: clock(), actor: actor.auditName, action: .deployKeyRemoved, object: deployKey.repository.fullName,
            detail: "deploy key \(id) \"\(deployKey.label)\" \(deployKey.key.fingerprint)", sourceIP: sourceIP,
            workspaceID: deployKey.repository.workspaceID)
        let store = store
        try await store.transaction { tx in
            try await store.keys.detach(id: id, on: tx)
            try await Self.forgetIfUnused(deployKey.key.id, store: store, on: tx)
            try await store.audit.append(entry, on: tx)
        }
    }

    /// Adds a key to an account. Only the account itself (or the operator) may do so.
    public func addAccountKey(
        actor: Actor, username: String, label: String, keyText: String, expiresAt: Date? = nil, sourceIP: String? = nil
    ) async throws -> (User, StoredKey) {
        try ExpiryDate.requireFuture(expiresAt, now: clock())
        let key = try Self.parse(keyText)
        let label = try Names.validateLabel(label)
        let user = try await authorizer.managedAccount(username, actor: actor, write: true)
        let stored = StoredKey(
            id: UUID(), kind: .account, fingerprint: key.fingerprint, publicKey: key.openSSH, comment: key.comment,
            userID: user.id, label: label, createdAt: clock(), lastUsed: nil, expiresAt: expiresAt)
        let entry = AuditEntry(
            at: stored.createdAt, actor: actor.auditName, action: .accountKeyAdded, object: user.username,
            detail: "label \"\(label)\", \(key.type.rawValue) \(key.fingerprint)", sourceIP: sourceIP, workspaceID: nil)
        let store = store
        try await disclosingKind(to: actor, of: key.fingerprint) {
            try await store.transaction { tx in
                if let existing = try await store.keys.key(fingerprint: key.fingerprint, on: tx) {
                    switch existing.kind {
                    case .deploy: throw GatehouseError.keyIsDeployKey
                    case .certificateAuthority: throw GatehouseError.keyIsCertificateAuthority
                    case .account: throw GatehouseError.keyAlreadyRegistered
                    }
                }
                try await store.unique(.keyAlreadyRegistered) { try await store.keys.insert(stored, on: tx) }
                try await store.record(ChangeRecord(audit: entry, mail: [KeyNotices.accountKeyAdded(stored, owner: user, by: actor)]), on: tx)
            }
        }
        return (user, stored)
    }

    /// The account if the actor may add or change its keys; others' accounts are "not found".
    public func accountForKeyChange(actor: Actor, username: String) async throws -> User {
        try await authorizer.managedAccount(username, actor: actor, write: true)
    }

    /// One window of an account's keys, oldest first, and how many it has.
    public func listAccountKeys(actor: Actor, username: String, window: ListWindow) async throws -> (User, ListPage<StoredKey>) {
        let user = try await authorizer.managedAccount(username, actor: actor, write: false)
        let page = try await ListPage.load(
            window, items: { try await store.keys.accountKeys(of: user.id, window: $0, on: store.db) },
            count: { try await store.keys.accountKeyCount(of: user.id, upTo: $0, on: store.db) })
        return (user, page)
    }

    public func accountKey(actor: Actor, username: String, id: UUID, write: Bool = false) async throws -> (User, StoredKey) {
        let user = try await authorizer.managedAccount(username, actor: actor, write: write)
        guard let key = try await store.keys.key(id: id, on: store.db), key.kind == .account, key.userID == user.id else {
            throw GatehouseError.notFound(
                "\(user.username) has no SSH key {\(id.uuidString.lowercased())}. List them with `gatehouse ssh-key list \(user.username)`.")
        }
        return (user, key)
    }

    /// Changes an account key's label. `keyText`, when given, must be the key already stored.
    public func renameAccountKey(
        actor: Actor, username: String, id: UUID, label: String, keyText: String? = nil,
        sourceIP: String? = nil
    ) async throws -> (User, StoredKey) {
        var (user, key) = try await accountKey(actor: actor, username: username, id: id, write: true)
        if let keyText, try Self.parse(keyText).fingerprint != key.fingerprint { throw GatehouseError.accountKeyCannotChange }
        let label = try Names.validateLabel(label)
        let entry = AuditEntry(
            at: clock(), actor: actor.auditName, action: .accountKeyRenamed, object: user.username,
            detail: "\(key.fingerprint): \"\(key.label ?? "")\" → \"\(label)\"", sourceIP: sourceIP, workspaceID: nil)
        let store = store
        try await store.transaction { tx in
            try await store.keys.setAccountKeyLabel(label, keyID: id, on: tx)
            try await store.audit.append(entry, on: tx)
        }
        key.label = label
        return (user, key)
    }

    public func removeAccountKey(actor: Actor, username: String, id: UUID, sourceIP: String? = nil) async throws {
        let (user, key) = try await accountKey(actor: actor, username: username, id: id, write: true)
        let entry = AuditEntry(
            at: clock(), actor: actor.auditName, action: .accountKeyRemoved, object: user.username,
            detail: "\"\(key.label ?? "")\" \(key.fingerprint)", sourceIP: sourceIP, workspaceID: nil)
        let store = store
        try await store.transaction { tx in
            try await store.keys.deleteKey(id: id, on: tx)
            try await store.audit.append(entry, on: tx)
        }
    }

    /// Parses a one-line OpenSSH public key; a refusal carries the key module's exact reason.
    public static func parse(_ text: String) throws(GatehouseError) -> PublicKey {
        do { return try PublicKey(parsing: text) } catch { throw .invalidKey(error) }
    }
}

extension StoredKey {
    /// Which front end serves this key type, for keys the built-in server cannot verify; nil for the others.
    public var frontEndNote: String? {
        if kind == .certificateAuthority {
            return
                "Certificates this authority signs for \(principals.joined(separator: " or ")) work through the OpenSSH front end (see README, \"Running behind OpenSSH\"); the authority's own key logs in nowhere."
        }
        guard let type = KeyType(rawValue: typeName), !type.isServedByBuiltInServer else { return nil }
        return
            "The built-in SSH server accepts Ed25519 and ECDSA keys only; \(typeName) keys work through the OpenSSH front end (see README, \"Running behind OpenSSH\")."
    }
}

extension Workspace {
    /// The latest expiry the workspace's `max_deploy_key_lifetime_days` allows for a key attached at `now`: whole
    /// days, the last one counting to its end (UTC), as a date typed for it means. Nil without the policy.
    public func latestDeployKeyExpiry(now: Date) -> Date? {
        guard let days = maxDeployKeyLifetimeDays else { return nil }
        return ExpiryDate.startOfUTCDay(now.addingTimeInterval(TimeInterval(days) * 86_400)).addingTimeInterval(86_399)
    }
}
