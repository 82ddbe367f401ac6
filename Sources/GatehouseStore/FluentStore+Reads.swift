import FluentKit
import FluentSQL
import Foundation
import GatehouseCore
import SQLKit

/// The reads every API request, page and Git command makes, in plain SQL through SQLKit: one round trip
/// each, rows decoded column by column. (Fluent decodes models by reflection, which cost more than the
/// queries themselves on these paths.) Standard SQL only, so PostgreSQL runs them unchanged.
extension FluentStore {
    var sql: any SQLDatabase { database as! any SQLDatabase }

    public func token(hash: String) async throws -> (APIToken, User)? {
        guard let row = try await sql.raw("""
            SELECT t.id, t.name, t.scopes, t.created_at, t.expires_at, t.last_used,
                   u.id AS user_id, u.username, u.email, u.display_name
            FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = \(bind: hash)
            """).first() else { return nil }
        let user = try Self.user(row, id: "user_id")
        let scopes = try row.decode(column: "scopes", as: String.self).split(separator: " ").compactMap { TokenScope(rawValue: String($0)) }
        let token = APIToken(id: try row.decode(column: "id", as: UUID.self), userID: user.id, name: try row.decode(column: "name", as: String.self),
                             scopes: TokenScopes(scopes), createdAt: try row.decode(column: "created_at", as: Date.self),
                             expiresAt: try row.decode(column: "expires_at", as: Date?.self), lastUsed: try row.decode(column: "last_used", as: Date?.self))
        return (token, user)
    }

    public func repository(_ path: RepositoryPath) async throws -> Repository? {
        guard let row = try await sql.raw("""
            SELECT r.id, r.workspace_id, r.slug, r.is_private, w.slug AS workspace_slug
            FROM repositories r JOIN workspaces w ON w.id = r.workspace_id
            WHERE w.slug = \(bind: path.workspace) AND r.slug = \(bind: path.repository)
            """).first() else { return nil }
        return try Self.repository(row, id: "id", slug: "slug")
    }

    public func accountGrants(user: User) async throws -> AccountGrantsByRepository {
        let rows = try await sql.raw("""
            SELECT p.repository_id AS target, p.level AS level, NULL AS role FROM repository_permissions p
              WHERE p.user_id = \(bind: user.id)
            UNION ALL
            SELECT m.workspace_id AS target, NULL AS level, m.role AS role FROM workspace_members m
              WHERE m.user_id = \(bind: user.id)
            """).all()
        var grants = AccountGrantsByRepository()
        for row in rows {
            let target = try row.decode(column: "target", as: UUID.self)
            if let level = try row.decode(column: "level", as: Int?.self) { grants.explicit[target] = AccessLevel(rawValue: level) ?? AccessLevel.none }
            if let role = try row.decode(column: "role", as: String?.self) { grants.workspaceRoles[target] = WorkspaceRole(rawValue: role) }
        }
        return grants
    }

    /// Which deployment key attachments to load.
    enum AttachmentFilter {
        case key(UUID)
        case ids([Int])
        case repository(UUID)
        case one(Int, repository: UUID)

        var condition: SQLQueryString {
            switch self {
            case .key(let id): "d.key_id = \(bind: id)"
            case .ids(let ids): "d.id IN (\(binds: ids))"
            case .repository(let id): "d.repository_id = \(bind: id)"
            case .one(let id, let repository): "d.id = \(bind: id) AND d.repository_id = \(bind: repository)"
            }
        }
    }

    /// Deployment keys with their key, repository and adder, in one query.
    func attachments(on db: any Database, _ filter: AttachmentFilter) async throws -> [DeployKey] {
        let sql = db as! any SQLDatabase
        let rows = try await sql.raw("""
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
            """).all()
        return try rows.map { row in
            let key = StoredKey(id: try row.decode(column: "key_id", as: UUID.self),
                                kind: KeyKind(rawValue: try row.decode(column: "kind", as: String.self)) ?? .deploy,
                                fingerprint: try row.decode(column: "fingerprint", as: String.self),
                                publicKey: try row.decode(column: "public_key", as: String.self),
                                comment: try row.decode(column: "comment", as: String?.self),
                                userID: try row.decode(column: "key_user_id", as: UUID?.self),
                                label: try row.decode(column: "key_label", as: String?.self),
                                createdAt: try row.decode(column: "key_created_at", as: Date.self),
                                lastUsed: try row.decode(column: "key_last_used", as: Date?.self),
                                principals: StoredPrincipals.names(try row.decode(column: "principals", as: String?.self)))
            return DeployKey(id: try row.decode(column: "id", as: Int.self), key: key,
                             repository: try Self.repository(row, id: "repository_id", slug: "repository_slug"),
                             label: try row.decode(column: "label", as: String.self),
                             addedBy: try row.decode(column: "adder", as: String?.self),
                             addedAt: try row.decode(column: "added_at", as: Date.self),
                             lastUsed: try row.decode(column: "last_used", as: Date?.self),
                             access: AccessLevel(rawValue: try row.decode(column: "access", as: Int.self)) ?? .read)
        }
    }

    static func repository(_ row: any SQLRow, id: String, slug: String) throws -> Repository {
        Repository(id: try row.decode(column: id, as: UUID.self), workspaceID: try row.decode(column: "workspace_id", as: UUID.self),
                   workspaceSlug: try row.decode(column: "workspace_slug", as: String.self), slug: try row.decode(column: slug, as: String.self),
                   isPrivate: try row.decode(column: "is_private", as: Bool.self))
    }

    static func user(_ row: any SQLRow, id: String) throws -> User {
        User(id: try row.decode(column: id, as: UUID.self), username: try row.decode(column: "username", as: String.self),
             email: try row.decode(column: "email", as: String.self), displayName: try row.decode(column: "display_name", as: String.self))
    }
}
