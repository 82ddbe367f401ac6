import FluentKit
import Foundation
import GatehouseCore
import SQLKit

struct FluentKeyStore: KeyStore {
    func key(fingerprint: String, on db: any StoreHandle) async throws -> StoredKey? {
        try await KeyModel.query(on: db.fluent).filter(\.$fingerprint == fingerprint).first()?.entity
    }

    func key(id: UUID, on db: any StoreHandle) async throws -> StoredKey? {
        try await KeyModel.find(id, on: db.fluent)?.entity
    }

    func insert(_ key: StoredKey, on db: any StoreHandle) async throws {
        let model = KeyModel()
        model.id = key.id
        model.kind = key.kind.rawValue
        model.fingerprint = key.fingerprint
        model.publicKey = key.publicKey
        model.comment = key.comment
        model.userID = key.userID
        model.label = key.label
        model.createdAt = key.createdAt
        model.principals = StoredPrincipals.column(key.certificatePrincipals)
        model.expiresAt = key.expiresAt
        try await unique { try await model.create(on: db.fluent) }
    }

    func accountKeys(of userID: UUID, window: ListWindow, on db: any StoreHandle) async throws -> [StoredKey] {
        try await KeyModel.query(on: db.fluent).filter(\.$userID == userID).filter(\.$kind == KeyKind.account.rawValue)
            .sort(\.$createdAt).sort(\.$id).range(window.offset..<(window.offset + window.limit)).all().map(\.entity)
    }

    func accountKeyCount(of userID: UUID, upTo limit: Int, on db: any StoreHandle) async throws -> Int {
        try await db.count("SELECT 1 FROM ssh_keys WHERE user_id = \(bind: userID) AND kind = \(bind: KeyKind.account.rawValue) LIMIT \(bind: limit)")
    }

    func setAccountKeyLabel(_ label: String, keyID: UUID, on db: any StoreHandle) async throws {
        try await KeyModel.query(on: db.fluent).filter(\.$id == keyID).filter(\.$kind == KeyKind.account.rawValue).set(\.$label, to: label).update()
    }

    func deleteKey(id: UUID, on db: any StoreHandle) async throws {
        try await KeyModel.query(on: db.fluent).filter(\.$id == id).delete()
    }

    func attach(_ attachment: NewAttachment, on db: any StoreHandle) async throws -> Int {
        let model = AttachmentModel()
        model.keyID = attachment.keyID
        model.repositoryID = attachment.repositoryID
        model.label = attachment.label
        model.access = attachment.access.rawValue
        model.addedBy = attachment.addedBy
        model.addedAt = attachment.addedAt
        model.refRules = StoredRefRules.column(attachment.refRules)
        model.expiresAt = attachment.expiresAt
        model.expiryWarnings = 0
        model.id = try await nextID(of: AttachmentModel.schema, on: db)
        try await unique { try await model.create(on: db.fluent) }
        return model.id!
    }

    /// The next id for `table` from a counter that only grows, so that an id given since the counters exist
    /// (migration v11) is never given to another key: an old mail's "deployment key 7" cannot point at a new key.
    /// (SQLite's INTEGER PRIMARY KEY alone gives the highest id again after its row is deleted; the counter starts
    /// after the highest id in use at the upgrade.)
    private func nextID(of table: String, on db: any StoreHandle) async throws -> Int {
        guard let row = try await db.sql.raw("UPDATE id_counters SET last = last + 1 WHERE name = \(bind: table) RETURNING last").first() else {
            throw GatehouseError.internalFailure("The id counter of \(table) is missing; the database was not migrated.")
        }
        return try row.decode(column: "last", as: Int.self)
    }

    func deployKeyCount(in workspace: Workspace, upTo limit: Int, on db: any StoreHandle) async throws -> Int {
        try await db.count(
            "SELECT 1 FROM deploy_keys d JOIN repositories r ON r.id = d.repository_id WHERE r.workspace_id = \(bind: workspace.id) LIMIT \(bind: limit)")
    }

    func setAttachmentLabel(_ label: String, id: Int, on db: any StoreHandle) async throws {
        try await AttachmentModel.query(on: db.fluent).filter(\.$id == id).set(\.$label, to: label).update()
    }

    func setAttachmentAccess(_ access: AccessLevel, refRules: [RefRule], id: Int, on db: any StoreHandle) async throws {
        try await AttachmentModel.query(on: db.fluent).filter(\.$id == id).set(\.$access, to: access.rawValue)
            .set(\.$refRules, to: StoredRefRules.column(refRules)).update()
    }

    func detach(id: Int, on db: any StoreHandle) async throws {
        try await AttachmentModel.query(on: db.fluent).filter(\.$id == id).delete()
    }

    func attachmentCount(keyID: UUID, on db: any StoreHandle) async throws -> Int {
        try await AttachmentModel.query(on: db.fluent).filter(\.$keyID == keyID).count()
            + WorkspaceAttachmentModel.query(on: db.fluent).filter(\.$keyID == keyID).count()
    }

    func attach(_ attachment: NewWorkspaceAttachment, on db: any StoreHandle) async throws -> Int {
        let model = WorkspaceAttachmentModel()
        model.keyID = attachment.keyID
        model.workspaceID = attachment.workspaceID
        model.label = attachment.label
        model.selector = attachment.selector.description
        model.access = attachment.access.rawValue
        model.refRules = StoredRefRules.column(attachment.refRules)
        model.addedBy = attachment.addedBy
        model.addedAt = attachment.addedAt
        model.expiresAt = attachment.expiresAt
        model.expiryWarnings = 0
        model.id = try await nextID(of: WorkspaceAttachmentModel.schema, on: db)
        try await unique { try await model.create(on: db.fluent) }
        return model.id!
    }

    func update(_ attachment: WorkspaceDeployKey, on db: any StoreHandle) async throws {
        try await WorkspaceAttachmentModel.query(on: db.fluent).filter(\.$id == attachment.id).set(\.$label, to: attachment.label)
            .set(\.$selector, to: attachment.selector.description).set(\.$access, to: attachment.access.rawValue)
            .set(\.$refRules, to: StoredRefRules.column(attachment.refRules)).update()
    }

    func detachFromWorkspace(id: Int, on db: any StoreHandle) async throws {
        try await WorkspaceAttachmentModel.query(on: db.fluent).filter(\.$id == id).delete()
    }

    /// Workspace deployment keys with their key, workspace and adder, in one query.
    func workspaceDeployKeyCount(_ filter: WorkspaceAttachmentFilter, upTo limit: Int, on db: any StoreHandle) async throws -> Int {
        try await db.count("SELECT 1 FROM workspace_deploy_keys d WHERE \(filter.condition) LIMIT \(bind: limit)")
    }

    func workspaceDeployKeys(_ filter: WorkspaceAttachmentFilter, window: ListWindow, on db: any StoreHandle) async throws -> [WorkspaceDeployKey] {
        let condition = filter.condition
        let rows = try await db.sql.raw(
            """
            SELECT d.id, d.label, d.selector, d.access, d.ref_rules, d.added_at, d.last_used, d.expires_on,
                   \(unsafeRaw: Self.keyColumns),
                   w.id AS workspace_id, w.slug AS workspace_slug, w.name AS workspace_name, w.owner_id, w.seat_limit,
                   w.allow_write_deploy_keys, u.username AS adder
            FROM workspace_deploy_keys d
            JOIN ssh_keys k ON k.id = d.key_id
            JOIN workspaces w ON w.id = d.workspace_id
            LEFT JOIN users u ON u.id = d.added_by
            WHERE d.id IN (
              SELECT d.id FROM workspace_deploy_keys d WHERE \(condition) AND \(window.idCondition) ORDER BY d.id \(window.limitClause))
            ORDER BY d.id
            """
        ).all()
        return try rows.map { row in
            let workspace = Workspace(
                id: try row.decode(column: "workspace_id", as: UUID.self), slug: try row.decode(column: "workspace_slug", as: String.self),
                name: try row.decode(column: "workspace_name", as: String.self), ownerID: try row.decode(column: "owner_id", as: UUID.self),
                seatLimit: try row.decode(column: "seat_limit", as: Int.self),
                allowWriteDeployKeys: try row.decode(column: "allow_write_deploy_keys", as: Bool.self))
            var attached = WorkspaceDeployKey(
                id: try row.decode(column: "id", as: Int.self), key: try Self.key(row), workspace: workspace,
                label: try row.decode(column: "label", as: String.self),
                selector: (try? RepositorySelector(parsing: try row.decode(column: "selector", as: String.self))) ?? .matching([]),
                access: AccessLevel(rawValue: try row.decode(column: "access", as: Int.self)) ?? .read,
                refRules: StoredRefRules.rules(try row.decode(column: "ref_rules", as: String?.self)),
                addedBy: try row.decode(column: "adder", as: String?.self), addedAt: try row.decode(column: "added_at", as: Date.self),
                lastUsed: try row.decode(column: "last_used", as: Date?.self))
            attached.expiresAt = try row.decode(column: "expires_on", as: Date?.self)
            return attached
        }
    }

    /// The stored key's columns, as `key(_:)` decodes them.
    static let keyColumns = """
        k.id AS key_id, k.kind, k.fingerprint, k.public_key, k.comment, k.user_id AS key_user_id, k.label AS key_label,
        k.created_at AS key_created_at, k.last_used AS key_last_used, k.principals, k.expires_on AS key_expires_on
        """

    static func key(_ row: any SQLRow) throws -> StoredKey {
        StoredKey(
            id: try row.decode(column: "key_id", as: UUID.self),
            kind: KeyKind(rawValue: try row.decode(column: "kind", as: String.self)) ?? .deploy,
            fingerprint: try row.decode(column: "fingerprint", as: String.self),
            publicKey: try row.decode(column: "public_key", as: String.self),
            comment: try row.decode(column: "comment", as: String?.self),
            userID: try row.decode(column: "key_user_id", as: UUID?.self),
            label: try row.decode(column: "key_label", as: String?.self),
            createdAt: try row.decode(column: "key_created_at", as: Date.self),
            lastUsed: try row.decode(column: "key_last_used", as: Date?.self),
            principals: StoredPrincipals.names(try row.decode(column: "principals", as: String?.self)),
            expiresAt: try row.decode(column: "key_expires_on", as: Date?.self))
    }

    func recordUse(keyID: UUID, attachment: AttachmentID?, at date: Date, ifUnusedSince cutoff: Date, on db: any StoreHandle) async throws {
        let sql = db.sql
        // Each attachment keeps its own last use, whatever the key did on other repositories meanwhile.
        switch attachment {
        case .repository(let id):
            try await sql.raw(
                """
                UPDATE deploy_keys SET last_used = \(bind: date)
                WHERE id = \(bind: id) AND (last_used IS NULL OR last_used < \(bind: cutoff))
                """
            ).run()
        case .workspace(let id):
            try await sql.raw(
                """
                UPDATE workspace_deploy_keys SET last_used = \(bind: date)
                WHERE id = \(bind: id) AND (last_used IS NULL OR last_used < \(bind: cutoff))
                """
            ).run()
        case nil:
            break
        }
        try await sql.raw(
            """
            UPDATE ssh_keys SET last_used = \(bind: date)
            WHERE id = \(bind: keyID) AND (last_used IS NULL OR last_used < \(bind: cutoff))
            """
        ).run()
    }

    func recordFirstUse(keyID: UUID, workspaceID: UUID, at date: Date, since dayStart: Date, on db: any StoreHandle) async throws -> Bool {
        // The upsert writes (and returns a row) only when there was no use since the day began: two callers at
        // the same moment make one "first use today" entry, not two.
        let rows = try await db.sql.raw(
            """
            INSERT INTO key_workspace_uses (key_id, workspace_id, last_used) VALUES (\(bind: keyID), \(bind: workspaceID), \(bind: date))
            ON CONFLICT (key_id, workspace_id) DO UPDATE SET last_used = excluded.last_used
              WHERE key_workspace_uses.last_used < \(bind: dayStart)
            RETURNING key_id
            """
        ).all()
        return !rows.isEmpty
    }

    /// Deployment keys with their key, repository and adder, in one query: the hot read of every SSH
    /// authentication of a deployment key and of every key list, in plain SQL (Fluent decodes models by
    /// reflection, which cost more than the query on these paths). Standard SQL only.
    func deployKeyCount(_ filter: AttachmentFilter, upTo limit: Int, on db: any StoreHandle) async throws -> Int {
        try await db.count("SELECT 1 FROM deploy_keys d WHERE \(filter.condition) LIMIT \(bind: limit)")
    }

    func deployKeys(_ filter: AttachmentFilter, window: ListWindow, on db: any StoreHandle) async throws -> [DeployKey] {
        let rows = try await db.sql.raw(
            """
            SELECT d.id, d.label, d.access, d.ref_rules, d.added_at, d.last_used, d.added_by, d.expires_on,
                   \(unsafeRaw: Self.keyColumns),
                   r.id AS repository_id, r.workspace_id, r.slug AS repository_slug, r.is_private, w.slug AS workspace_slug,
                   w.allow_write_deploy_keys, u.username AS adder
            FROM deploy_keys d
            JOIN ssh_keys k ON k.id = d.key_id
            JOIN repositories r ON r.id = d.repository_id
            JOIN workspaces w ON w.id = r.workspace_id
            LEFT JOIN users u ON u.id = d.added_by
            WHERE d.id IN (
              SELECT d.id FROM deploy_keys d WHERE \(filter.condition) AND \(window.idCondition) ORDER BY d.id \(window.limitClause))
            ORDER BY d.id
            """
        ).all()
        return try rows.map { row in
            DeployKey(
                id: try row.decode(column: "id", as: Int.self), key: try Self.key(row),
                repository: try Rows.repository(row, id: "repository_id", slug: "repository_slug"),
                label: try row.decode(column: "label", as: String.self),
                addedBy: try row.decode(column: "adder", as: String?.self),
                addedAt: try row.decode(column: "added_at", as: Date.self),
                lastUsed: try row.decode(column: "last_used", as: Date?.self),
                access: AccessLevel(rawValue: try row.decode(column: "access", as: Int.self)) ?? .read,
                refRules: StoredRefRules.rules(try row.decode(column: "ref_rules", as: String?.self)),
                workspaceAllowsWrite: try row.decode(column: "allow_write_deploy_keys", as: Bool.self),
                expiresAt: try row.decode(column: "expires_on", as: Date?.self))
        }
    }
}

extension ListWindow {
    /// `d.id` past the cursor, when the window has one.
    var idCondition: SQLQueryString { after.map { "d.id > \(bind: $0)" } ?? "1 = 1" }
    /// The window's length, and its offset when it has no cursor.
    var limitClause: SQLQueryString { after == nil ? "LIMIT \(bind: limit) OFFSET \(bind: offset)" : "LIMIT \(bind: limit)" }
}

extension WorkspaceAttachmentFilter {
    var condition: SQLQueryString {
        switch self {
        case .key(let id): "d.key_id = \(bind: id)"
        case .workspace(let id): "d.workspace_id = \(bind: id)"
        case .one(let id, let workspace): "d.id = \(bind: id) AND d.workspace_id = \(bind: workspace)"
        }
    }
}

extension AttachmentFilter {
    var condition: SQLQueryString {
        switch self {
        case .key(let id): "d.key_id = \(bind: id)"
        case .ids(let ids): ids.isEmpty ? "1 = 0" : "d.id IN (\(binds: ids))"
        case .repository(let id): "d.repository_id = \(bind: id)"
        case .one(let id, let repository): "d.id = \(bind: id) AND d.repository_id = \(bind: repository)"
        }
    }
}
