import FluentKit
import Foundation
import GatehouseCore
import GatehouseKeys

extension FluentStore {
    public func principal(fingerprint: String) async throws -> Principal? {
        // A certificate authority's key is no login key: it only vouches for certificates, which sshd checks.
        guard let key = try await KeyModel.query(on: database).filter(\.$fingerprint == fingerprint).first(),
              KeyKind(rawValue: key.kind)?.logsInWithItsOwnKey == true else { return nil }
        return try await principal(for: key)
    }

    public func principal(keyID: UUID) async throws -> Principal? {
        guard let key = try await KeyModel.find(keyID, on: database) else { return nil }
        return try await principal(for: key)
    }

    public func storedKey(fingerprint: String) async throws -> StoredKey? {
        try await KeyModel.query(on: database).filter(\.$fingerprint == fingerprint).first()?.entity
    }

    private func principal(for key: KeyModel) async throws -> Principal? {
        let reference = KeyReference(id: key.id!, fingerprint: key.fingerprint)
        switch KeyKind(rawValue: key.kind) {
        case .account:
            guard let userID = key.userID, let user = try await UserModel.find(userID, on: database) else { return nil }
            return .account(user.entity, key: reference)
        case .deploy, .certificateAuthority:
            let grants = try await attachments(on: database, .key(reference.id)).map { deployKey in
                DeployKeyGrant(attachmentID: deployKey.id, label: deployKey.label, repositoryID: deployKey.repository.id,
                               repositoryFullName: deployKey.repository.fullName, access: deployKey.access)
            }
            return grants.isEmpty ? nil : .deployKey(DeployKeyPrincipal(keyID: reference.id, fingerprint: key.fingerprint, grants: grants))
        case nil:
            return nil
        }
    }

    public func addAccountKey(_ key: PublicKey, label: String, user: User, record: @Sendable (StoredKey) -> ChangeRecord) async throws -> StoredKey {
        let model = KeyModel(key, kind: .account)
        model.id = UUID()
        model.userID = user.id
        model.label = label
        let change = record(model.entity)
        try await mapConstraint(.keyAlreadyRegistered) {
            try await database.transaction { db in
                if let existing = try await KeyModel.query(on: db).filter(\.$fingerprint == key.fingerprint).first() {
                    switch KeyKind(rawValue: existing.kind) {
                    case .deploy: throw GatehouseError.keyIsDeployKey
                    case .certificateAuthority: throw GatehouseError.keyIsCertificateAuthority
                    case .account, nil: throw GatehouseError.keyAlreadyRegistered
                    }
                }
                try await model.create(on: db)
                try await self.write(change, on: db)
            }
        }
        return model.entity
    }

    public func accountKeys(user: User) async throws -> [StoredKey] {
        try await KeyModel.query(on: database).filter(\.$userID == user.id).sort(\.$createdAt).all().map(\.entity)
    }

    public func renameAccountKey(id: UUID, label: String, audit: AuditEntry) async throws {
        try await database.transaction { db in
            try await KeyModel.query(on: db).filter(\.$id == id).filter(\.$kind == KeyKind.account.rawValue).set(\.$label, to: label).update()
            try await AuditModel(audit).create(on: db)
        }
    }

    public func removeAccountKey(id: UUID, audit: AuditEntry) async throws {
        try await database.transaction { db in
            try await KeyModel.query(on: db).filter(\.$id == id).filter(\.$kind == KeyKind.account.rawValue).delete()
            try await AuditModel(audit).create(on: db)
        }
    }

    public func attachDeployKey(_ key: PublicKey, label: String, repositories: [Repository], addedBy: User?, certificatePrincipals: [String]?,
                                record: @escaping @Sendable (DeployKey) -> ChangeRecord) async throws -> [DeployKey] {
        let now = Date()
        let kind: KeyKind = certificatePrincipals == nil ? .deploy : .certificateAuthority
        return try await database.transaction { db in
            let keyModel: KeyModel
            if let existing = try await KeyModel.query(on: db).filter(\.$fingerprint == key.fingerprint).first() {
                switch (KeyKind(rawValue: existing.kind), kind) {
                case (.deploy, .deploy): break
                case (.certificateAuthority, .certificateAuthority):
                    let stored = existing.entity.principals
                    guard Set(stored) == Set(certificatePrincipals ?? []) else { throw GatehouseError.certificatePrincipalsDiffer }
                case (.certificateAuthority, _): throw GatehouseError.keyIsCertificateAuthority
                case (.deploy, _): throw GatehouseError.keyIsNotCertificateAuthority
                default: throw GatehouseError.keyIsAccountKey
                }
                keyModel = existing
            } else {
                keyModel = KeyModel(key, kind: kind)
                keyModel.principals = StoredPrincipals.column(certificatePrincipals)
                try await self.mapConstraint(.keyIsAccountKey) { try await keyModel.create(on: db) }
            }
            var ids: [Int] = []
            for repository in repositories {
                let attachment = AttachmentModel()
                attachment.keyID = keyModel.id!
                attachment.repositoryID = repository.id
                attachment.label = label
                attachment.access = AccessLevel.read.rawValue
                attachment.addedBy = addedBy?.id
                attachment.addedAt = now
                try await self.mapConstraint(.keyAlreadyOnRepository(repository.fullName)) { try await attachment.create(on: db) }
                ids.append(attachment.id!)
            }
            let attached = try await self.attachments(on: db, .ids(ids))
            for deployKey in attached { try await self.write(record(deployKey), on: db) }
            return attached
        }
    }

    public func administrators(of repository: Repository) async throws -> [User] {
        let roles = [WorkspaceRole.owner.rawValue, WorkspaceRole.admin.rawValue]
        let members = try await MemberModel.query(on: database).filter(\.$workspaceID == repository.workspaceID).filter(\.$role ~~ roles)
            .join(UserModel.self, on: \MemberModel.$userID == \UserModel.$id).all()
        let explicit = try await PermissionModel.query(on: database).filter(\.$repositoryID == repository.id)
            .filter(\.$level >= AccessLevel.admin.rawValue)
            .join(UserModel.self, on: \PermissionModel.$userID == \UserModel.$id).all()
        var seen = Set<UUID>()
        let users = try members.map { try $0.joined(UserModel.self).entity } + explicit.map { try $0.joined(UserModel.self).entity }
        return users.filter { seen.insert($0.id).inserted }.sorted { $0.username < $1.username }
    }

    /// A change's audit entry and outbox messages, inside the caller's transaction.
    func write(_ change: ChangeRecord, on db: any Database) async throws {
        try await AuditModel(change.audit).create(on: db)
        for mail in change.mail { try await MailModel(mail, at: change.audit.at).create(on: db) }
    }

    public func deployKeys(repository: Repository) async throws -> [DeployKey] {
        try await attachments(on: database, .repository(repository.id))
    }

    public func deployKey(id: Int, repository: Repository) async throws -> DeployKey? {
        try await attachments(on: database, .one(id, repository: repository.id)).first
    }

    public func renameDeployKey(id: Int, label: String, audit: AuditEntry) async throws {
        try await database.transaction { db in
            try await AttachmentModel.query(on: db).filter(\.$id == id).set(\.$label, to: label).update()
            try await AuditModel(audit).create(on: db)
        }
    }

    public func removeDeployKey(id: Int, audit: AuditEntry) async throws {
        try await database.transaction { db in
            guard let attachment = try await AttachmentModel.find(id, on: db) else { return }
            let keyID = attachment.keyID
            try await attachment.delete(on: db)
            if try await AttachmentModel.query(on: db).filter(\.$keyID == keyID).count() == 0 {
                try await KeyModel.query(on: db).filter(\.$id == keyID).filter(\.$kind != KeyKind.account.rawValue).delete()
            }
            try await AuditModel(audit).create(on: db)
        }
    }

    public func recordKeyUse(keyID: UUID, attachmentID: Int?, at date: Date, ifUnusedSince cutoff: Date) async throws -> KeyUseUpdate {
        // The previous use tells whether this is the day's first; a read by primary key.
        guard let row = try await sql.raw("SELECT last_used FROM ssh_keys WHERE id = \(bind: keyID)").first() else {
            return KeyUseUpdate(written: false, previous: nil)
        }
        let previous = try row.decode(column: "last_used", as: Date?.self)
        if let attachmentID {
            // Each attachment keeps its own last use, whatever the key did on other repositories meanwhile.
            try await sql.raw("""
                UPDATE deploy_keys SET last_used = \(bind: date)
                WHERE id = \(bind: attachmentID) AND (last_used IS NULL OR last_used < \(bind: cutoff))
                """).run()
        }
        if let previous, previous >= cutoff { return KeyUseUpdate(written: false, previous: previous) }
        // Only the caller whose conditional UPDATE changed the row has recorded the use, so two first uses at
        // the same moment (two forced commands, two nodes) make one "first use today" entry, not two.
        let changed = try await sql.raw("""
            UPDATE ssh_keys SET last_used = \(bind: date)
            WHERE id = \(bind: keyID) AND (last_used IS NULL OR last_used < \(bind: cutoff)) RETURNING id
            """).all()
        return KeyUseUpdate(written: !changed.isEmpty, previous: previous)
    }
}

extension KeyModel {
    convenience init(_ key: PublicKey, kind: KeyKind) {
        self.init()
        self.kind = kind.rawValue
        fingerprint = key.fingerprint
        publicKey = key.openSSH
        comment = key.comment
        createdAt = Date()
    }
}
