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
        try await unique { try await model.create(on: db.fluent) }
    }

    func accountKeys(of userID: UUID, on db: any StoreHandle) async throws -> [StoredKey] {
        try await KeyModel.query(on: db.fluent).filter(\.$userID == userID).filter(\.$kind == KeyKind.account.rawValue)
            .sort(\.$createdAt).all().map(\.entity)
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
        try await unique { try await model.create(on: db.fluent) }
        return model.id!
    }

    func deployKeyCount(in workspace: Workspace, on db: any StoreHandle) async throws -> Int {
        let row = try await db.sql.raw(
            """
            SELECT COUNT(*) AS n FROM deploy_keys d JOIN repositories r ON r.id = d.repository_id WHERE r.workspace_id = \(bind: workspace.id)
            """
        ).first()
        return try row?.decode(column: "n", as: Int.self) ?? 0
    }

    func setAttachmentLabel(_ label: String, id: Int, on db: any StoreHandle) async throws {
        try await AttachmentModel.query(on: db.fluent).filter(\.$id == id).set(\.$label, to: label).update()
    }

    func detach(id: Int, on db: any StoreHandle) async throws {
        try await AttachmentModel.query(on: db.fluent).filter(\.$id == id).delete()
    }

    func attachmentCount(keyID: UUID, on db: any StoreHandle) async throws -> Int {
        try await AttachmentModel.query(on: db.fluent).filter(\.$keyID == keyID).count()
    }

    func recordUse(keyID: UUID, attachmentID: Int?, at date: Date, ifUnusedSince cutoff: Date, on db: any StoreHandle) async throws -> KeyUseUpdate {
        let sql = db.sql
        // The previous use tells whether this is the day's first; a read by primary key.
        guard let row = try await sql.raw("SELECT last_used FROM ssh_keys WHERE id = \(bind: keyID)").first() else {
            return KeyUseUpdate(written: false, previous: nil)
        }
        let previous = try row.decode(column: "last_used", as: Date?.self)
        if let attachmentID {
            // Each attachment keeps its own last use, whatever the key did on other repositories meanwhile.
            try await sql.raw(
                """
                UPDATE deploy_keys SET last_used = \(bind: date)
                WHERE id = \(bind: attachmentID) AND (last_used IS NULL OR last_used < \(bind: cutoff))
                """
            ).run()
        }
        if let previous, previous >= cutoff { return KeyUseUpdate(written: false, previous: previous) }
        // Only the caller whose conditional UPDATE changed the row has recorded the use, so two first uses at
        // the same moment (two forced commands, two nodes) make one "first use today" entry, not two.
        let changed = try await sql.raw(
            """
            UPDATE ssh_keys SET last_used = \(bind: date)
            WHERE id = \(bind: keyID) AND (last_used IS NULL OR last_used < \(bind: cutoff)) RETURNING id
            """
        ).all()
        return KeyUseUpdate(written: !changed.isEmpty, previous: previous)
    }

    /// Deployment keys with their key, repository and adder, in one query: the hot read of every SSH
    /// authentication of a deployment key and of every key list, in plain SQL (Fluent decodes models by
    /// reflection, which cost more than the query on these paths). Standard SQL only.
    func deployKeys(_ filter: AttachmentFilter, on db: any StoreHandle) async throws -> [DeployKey] {
        let rows = try await db.sql.raw(
            """
            SELECT d.id, d.label, d.access, d.added_at, d.last_used, d.added_by,
                   k.id AS key_id, k.kind, k.fingerprint, k.public_key, k.comment, k.user_id AS key_user_id, k.label AS key_label,
                   k.created_at AS key_created_at, k.last_used AS key_last_used, k.principals,
                   r.id AS repository_id, r.workspace_id, r.slug AS repository_slug, r.is_private, w.slug AS workspace_slug,
                   u.username AS adder
            FROM deploy_keys d
            JOIN ssh_keys k ON k.id = d.key_id
            JOIN repositories r ON r.id = d.repository_id
            JOIN workspaces w ON w.id = r.workspace_id
            LEFT JOIN users u ON u.id = d.added_by
            WHERE \(filter.condition)
            ORDER BY d.id
            """
        ).all()
        return try rows.map { row in
            let key = StoredKey(
                id: try row.decode(column: "key_id", as: UUID.self),
                kind: KeyKind(rawValue: try row.decode(column: "kind", as: String.self)) ?? .deploy,
                fingerprint: try row.decode(column: "fingerprint", as: String.self),
                publicKey: try row.decode(column: "public_key", as: String.self),
                comment: try row.decode(column: "comment", as: String?.self),
                userID: try row.decode(column: "key_user_id", as: UUID?.self),
                label: try row.decode(column: "key_label", as: String?.self),
                createdAt: try row.decode(column: "key_created_at", as: Date.self),
                lastUsed: try row.decode(column: "key_last_used", as: Date?.self),
                principals: StoredPrincipals.names(try row.decode(column: "principals", as: String?.self)))
            return DeployKey(
                id: try row.decode(column: "id", as: Int.self), key: key,
                repository: try Rows.repository(row, id: "repository_id", slug: "repository_slug"),
                label: try row.decode(column: "label", as: String.self),
                addedBy: try row.decode(column: "adder", as: String?.self),
                addedAt: try row.decode(column: "added_at", as: Date.self),
                lastUsed: try row.decode(column: "last_used", as: Date?.self),
                access: AccessLevel(rawValue: try row.decode(column: "access", as: Int.self)) ?? .read)
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
