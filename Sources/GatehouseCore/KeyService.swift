import Foundation
import GatehouseKeys

/// Adds, renames and removes SSH keys with every rule, audit entry and notice, whoever calls it
/// (CLI, API, web). The database constraints back the rules up against concurrent requests.
public struct KeyService: Sendable {
    public let store: any Store
    public let clock: @Sendable () -> Date

    public init(store: any Store, clock: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.clock = clock
    }

    /// Attaches one key to one or more repositories, each attachment with its own id and the same label.
    /// The actor must administer every repository; all attachments are made or none.
    /// With `certificatePrincipals`, the key is a certificate authority: machines clone with certificates it
    /// signed for one of those principals (through the OpenSSH front end), and the key itself logs in nowhere.
    public func addDeployKey(actor: Actor, repositories fullNames: [String], label: String, keyText: String,
                             certificatePrincipals: [String]? = nil, sourceIP: String? = nil) async throws -> [DeployKey] {
        guard !fullNames.isEmpty else { throw GatehouseError.invalidArgument("Name at least one repository (WORKSPACE/REPOSITORY).") }
        let key = try Self.parse(keyText)
        let label = try Names.validateLabel(label)
        let principals = try certificatePrincipals.map(CertificatePrincipals.validate)
        let what = principals.map { "certificate authority for principals \($0.joined(separator: ",")), " } ?? ""
        var repositories: [Repository] = []
        for name in fullNames {
            let repository = try await administeredRepository(name, actor: actor)
            if !repositories.contains(repository) { repositories.append(repository) }
        }
        // "Account key or deployment key, never both" and "once per repository" are database constraints;
        // the store reports them as keyIsAccountKey / keyAlreadyOnRepository, and nothing is attached.
        var administrators: [UUID: [User]] = [:]
        for repository in repositories { administrators[repository.id] = try await store.administrators(of: repository) }
        let recipients = administrators
        let now = clock()
        return try await store.attachDeployKey(key, label: label, repositories: repositories, addedBy: actor.user,
                                               certificatePrincipals: principals) { deployKey in
            let repository = deployKey.repository
            let audit = AuditEntry(at: now, actor: actor.auditName, action: .deployKeyAdded, object: repository.fullName,
                                   detail: "deploy key \(deployKey.id) label \"\(label)\", \(what)\(key.type.rawValue) \(key.fingerprint)",
                                   sourceIP: sourceIP, workspaceID: repository.workspaceID)
            return ChangeRecord(audit: audit, mail: KeyNotices.deployKeyAdded(deployKey, by: actor, recipients: recipients[repository.id] ?? []))
        }
    }

    public func listDeployKeys(actor: Actor, repository fullName: String) async throws -> [DeployKey] {
        let repository = try await administeredRepository(fullName, actor: actor)
        return try await store.deployKeys(repository: repository)
    }

    public func deployKey(actor: Actor, repository fullName: String, id: Int) async throws -> DeployKey {
        let repository = try await administeredRepository(fullName, actor: actor)
        guard let deployKey = try await store.deployKey(id: id, repository: repository) else {
            throw GatehouseError.notFound("No deployment key \(id) on \(repository.fullName). List them with `gatehouse deploy-key list \(repository.fullName)`.")
        }
        return deployKey
    }

    /// Changes the label. `keyText`, when given, must be the key already stored: keys cannot be swapped.
    public func renameDeployKey(actor: Actor, repository fullName: String, id: Int, label: String, keyText: String? = nil,
                                sourceIP: String? = nil) async throws -> DeployKey {
        var deployKey = try await deployKey(actor: actor, repository: fullName, id: id)
        if let keyText, try Self.parse(keyText).fingerprint != deployKey.key.fingerprint { throw GatehouseError.keyCannotChange }
        let label = try Names.validateLabel(label)
        let entry = AuditEntry(at: clock(), actor: actor.auditName, action: .deployKeyRenamed, object: deployKey.repository.fullName,
                               detail: "deploy key \(id): \"\(deployKey.label)\" → \"\(label)\"", sourceIP: sourceIP,
                               workspaceID: deployKey.repository.workspaceID)
        try await store.renameDeployKey(id: id, label: label, audit: entry)
        deployKey.label = label
        return deployKey
    }

    public func removeDeployKey(actor: Actor, repository fullName: String, id: Int, sourceIP: String? = nil) async throws {
        let deployKey = try await deployKey(actor: actor, repository: fullName, id: id)
        let entry = AuditEntry(at: clock(), actor: actor.auditName, action: .deployKeyRemoved, object: deployKey.repository.fullName,
                               detail: "deploy key \(id) \"\(deployKey.label)\" \(deployKey.key.fingerprint)", sourceIP: sourceIP,
                               workspaceID: deployKey.repository.workspaceID)
        try await store.removeDeployKey(id: id, audit: entry)
    }

    /// Adds a key to an account. Only the account itself (or the operator) may do so.
    public func addAccountKey(actor: Actor, username: String, label: String, keyText: String, sourceIP: String? = nil) async throws -> (User, StoredKey) {
        let key = try Self.parse(keyText)
        let label = try Names.validateLabel(label)
        let user = try await store.managedAccount(username, actor: actor, write: true)
        let entry = AuditEntry(at: clock(), actor: actor.auditName, action: .accountKeyAdded, object: user.username,
                               detail: "label \"\(label)\", \(key.type.rawValue) \(key.fingerprint)", sourceIP: sourceIP, workspaceID: nil)
        let stored = try await store.addAccountKey(key, label: label, user: user) { stored in
            ChangeRecord(audit: entry, mail: [KeyNotices.accountKeyAdded(stored, owner: user, by: actor)])
        }
        return (user, stored)
    }

    public func listAccountKeys(actor: Actor, username: String) async throws -> (User, [StoredKey]) {
        let user = try await store.managedAccount(username, actor: actor, write: false)
        return (user, try await store.accountKeys(user: user))
    }

    public func accountKey(actor: Actor, username: String, id: UUID, write: Bool = false) async throws -> (User, StoredKey) {
        let user = try await store.managedAccount(username, actor: actor, write: write)
        guard let key = try await store.accountKeys(user: user).first(where: { $0.id == id }) else {
            throw GatehouseError.notFound("\(user.username) has no SSH key {\(id.uuidString.lowercased())}. List them with `gatehouse ssh-key list \(user.username)`.")
        }
        return (user, key)
    }

    /// Changes an account key's label. `keyText`, when given, must be the key already stored.
    public func renameAccountKey(actor: Actor, username: String, id: UUID, label: String, keyText: String? = nil,
                                 sourceIP: String? = nil) async throws -> (User, StoredKey) {
        var (user, key) = try await accountKey(actor: actor, username: username, id: id, write: true)
        if let keyText, try Self.parse(keyText).fingerprint != key.fingerprint { throw GatehouseError.accountKeyCannotChange }
        let label = try Names.validateLabel(label)
        let entry = AuditEntry(at: clock(), actor: actor.auditName, action: .accountKeyRenamed, object: user.username,
                               detail: "\(key.fingerprint): \"\(key.label ?? "")\" → \"\(label)\"", sourceIP: sourceIP, workspaceID: nil)
        try await store.renameAccountKey(id: id, label: label, audit: entry)
        key.label = label
        return (user, key)
    }

    public func removeAccountKey(actor: Actor, username: String, id: UUID, sourceIP: String? = nil) async throws {
        let (user, key) = try await accountKey(actor: actor, username: username, id: id, write: true)
        let entry = AuditEntry(at: clock(), actor: actor.auditName, action: .accountKeyRemoved, object: user.username,
                               detail: "\"\(key.label ?? "")\" \(key.fingerprint)", sourceIP: sourceIP, workspaceID: nil)
        try await store.removeAccountKey(id: id, audit: entry)
    }

    static func parse(_ text: String) throws(GatehouseError) -> PublicKey {
        do { return try PublicKey(parsing: text) } catch { throw .invalidKey(error) }
    }

    /// The repository if the actor administers it; "not found" if they cannot even read it.
    private func administeredRepository(_ fullName: String, actor: Actor) async throws -> Repository {
        try await store.authorizedRepository(fullName, actor: actor, operation: .administer)
    }
}

extension StoredKey {
    /// Which front end serves this key type, for keys the built-in server cannot verify; nil for the others.
    public var frontEndNote: String? {
        if kind == .certificateAuthority {
            return "Certificates this authority signs for \(principals.joined(separator: " or ")) work through the OpenSSH front end (see README, \"Running behind OpenSSH\"); the authority's own key logs in nowhere."
        }
        guard let type = KeyType(rawValue: typeName), !type.isServedByBuiltInServer else { return nil }
        return "The built-in SSH server accepts Ed25519 and ECDSA keys only; \(typeName) keys work through the OpenSSH front end (see README, \"Running behind OpenSSH\")."
    }
}
