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
    public func addDeployKey(actor: Actor, repositories fullNames: [String], label: String, keyText: String,
                             sourceIP: String? = nil) async throws -> [DeployKey] {
        guard !fullNames.isEmpty else { throw GatehouseError.invalidArgument("Name at least one repository (WORKSPACE/REPOSITORY).") }
        let key = try Self.parse(keyText)
        let label = try Names.validateLabel(label)
        var repositories: [Repository] = []
        for name in fullNames {
            let repository = try await administeredRepository(name, actor: actor)
            if !repositories.contains(repository) { repositories.append(repository) }
        }
        // "Account key or deployment key, never both" and "once per repository" are database constraints;
        // the store reports them as keyIsAccountKey / keyAlreadyOnRepository, and nothing is attached.
        let now = clock()
        return try await store.attachDeployKey(key, label: label, repositories: repositories, addedBy: actor.user) { repository in
            AuditEntry(at: now, actor: actor.auditName, action: .deployKeyAdded, object: repository.fullName,
                       detail: "label \"\(label)\", \(key.type.rawValue) \(key.fingerprint)", sourceIP: sourceIP,
                       workspaceID: repository.workspaceID)
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
    public func addAccountKey(actor: Actor, username: String, label: String, keyText: String, sourceIP: String? = nil) async throws -> StoredKey {
        let key = try Self.parse(keyText)
        let label = try Names.validateLabel(label)
        guard let user = try await store.user(username: username), actor.mayManageKeys(of: user) else {
            throw GatehouseError.notFound("No user named '\(username)'.")
        }
        let entry = AuditEntry(at: clock(), actor: actor.auditName, action: .accountKeyAdded, object: user.username,
                               detail: "label \"\(label)\", \(key.type.rawValue) \(key.fingerprint)", sourceIP: sourceIP, workspaceID: nil)
        return try await store.addAccountKey(key, label: label, user: user, audit: entry)
    }

    static func parse(_ text: String) throws(GatehouseError) -> PublicKey {
        do { return try PublicKey(parsing: text) } catch { throw .invalidKey(error) }
    }

    /// The repository if the actor administers it; "not found" if they cannot even read it.
    private func administeredRepository(_ fullName: String, actor: Actor) async throws -> Repository {
        let path = RepositoryPath(parsing: fullName)
        let repository: Repository? = if let path { try await store.repository(path) } else { nil }
        guard case .user(let user) = actor else {
            guard let repository else { throw GatehouseError.accessDenied(.notFound(fullName)) }
            return repository
        }
        let grants = if let repository { try await store.accountGrants(user: user, repository: repository) } else { AccountGrants() }
        switch Access.decide(.account(user, key: nil), operation: .administer, on: repository, requestedPath: fullName, accountGrants: grants) {
        case .allowed: return repository!
        case .denied(let denial): throw GatehouseError.accessDenied(denial)
        }
    }
}

extension Actor {
    var user: User? {
        if case .user(let user) = self { return user }
        return nil
    }

    func mayManageKeys(of owner: User) -> Bool {
        switch self {
        case .localOperator: true
        case .user(let user): user.id == owner.id
        }
    }
}
