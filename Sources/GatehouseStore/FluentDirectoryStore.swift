import FluentKit
import Foundation
import GatehouseCore
import SQLKit

struct FluentDirectoryStore: DirectoryStore {
    func create(_ workspace: Workspace, on db: any StoreHandle) async throws {
        let model = WorkspaceModel()
        model.id = workspace.id
        model.slug = workspace.slug
        model.name = workspace.name
        model.ownerID = workspace.ownerID
        model.seatLimit = workspace.seatLimit
        model.allowWriteDeployKeys = workspace.allowWriteDeployKeys
        try await unique { try await model.create(on: db.fluent) }
    }

    func workspace(slug: String, on db: any StoreHandle) async throws -> Workspace? {
        try await WorkspaceModel.query(on: db.fluent).filter(\.$slug == slug).first()?.entity
    }

    func workspace(id: UUID, on db: any StoreHandle) async throws -> Workspace? {
        try await WorkspaceModel.find(id, on: db.fluent)?.entity
    }

    func role(of userID: UUID, in workspace: Workspace, on db: any StoreHandle) async throws -> WorkspaceRole? {
        try await member(userID, workspace, on: db).flatMap { WorkspaceRole(rawValue: $0.role) }
    }

    func setRole(_ role: WorkspaceRole, of userID: UUID, in workspace: Workspace, on db: any StoreHandle) async throws {
        let model = try await member(userID, workspace, on: db) ?? MemberModel()
        model.workspaceID = workspace.id
        model.userID = userID
        model.role = role.rawValue
        try await unique { try await model.save(on: db.fluent) }
    }

    private func member(_ userID: UUID, _ workspace: Workspace, on db: any StoreHandle) async throws -> MemberModel? {
        try await MemberModel.query(on: db.fluent).filter(\.$workspaceID == workspace.id).filter(\.$userID == userID).first()
    }

    func members(of workspace: Workspace, on db: any StoreHandle) async throws -> [(User, WorkspaceRole)] {
        let rows = try await MemberModel.query(on: db.fluent).filter(\.$workspaceID == workspace.id)
            .join(UserModel.self, on: \MemberModel.$userID == \UserModel.$id).all()
        return try rows.map { (try $0.joined(UserModel.self).entity, WorkspaceRole(rawValue: $0.role) ?? .member) }
    }

    func memberCount(of workspace: Workspace, on db: any StoreHandle) async throws -> Int {
        try await MemberModel.query(on: db.fluent).filter(\.$workspaceID == workspace.id).count()
    }

    func create(_ repository: Repository, on db: any StoreHandle) async throws {
        let model = RepositoryModel()
        model.id = repository.id
        model.workspaceID = repository.workspaceID
        model.slug = repository.slug
        model.isPrivate = repository.isPrivate
        model.createdAt = Date()
        try await unique { try await model.create(on: db.fluent) }
    }

    func delete(_ repository: Repository, on db: any StoreHandle) async throws {
        try await RepositoryModel.query(on: db.fluent).filter(\.$id == repository.id).delete()
    }

    func repository(_ path: RepositoryPath, on db: any StoreHandle) async throws -> Repository? {
        guard
            let row = try await db.sql.raw(
                """
                SELECT r.id, r.workspace_id, r.slug, r.is_private, w.slug AS workspace_slug
                FROM repositories r JOIN workspaces w ON w.id = r.workspace_id
                WHERE w.slug = \(bind: path.workspace) AND r.slug = \(bind: path.repository)
                """
            ).first()
        else { return nil }
        return try Rows.repository(row, id: "id", slug: "slug")
    }

    func hasRepositoryVisible(in workspace: Workspace, to userID: UUID?, on db: any StoreHandle) async throws -> Bool {
        // A missing account is asked about with an id nobody has, so that the query is the same either way.
        let row = try await db.sql.raw(
            """
            SELECT EXISTS(SELECT 1 FROM repositories r WHERE r.workspace_id = \(bind: workspace.id) AND r.is_private = \(bind: false))
              OR EXISTS(SELECT 1 FROM repository_permissions p JOIN repositories r ON r.id = p.repository_id
                WHERE r.workspace_id = \(bind: workspace.id) AND p.user_id = \(bind: userID ?? UUID()) AND p.level >= \(bind: AccessLevel.read.rawValue)) AS visible
            """
        ).first()
        return try row?.decode(column: "visible", as: Bool.self) ?? false
    }

    func repositories(in workspace: Workspace?, on db: any StoreHandle) async throws -> [Repository] {
        let query = RepositoryModel.query(on: db.fluent).join(WorkspaceModel.self, on: \RepositoryModel.$workspaceID == \WorkspaceModel.$id)
        if let workspace { query.filter(\.$workspaceID == workspace.id) }
        let rows = try await query.sort(WorkspaceModel.self, \.$slug).sort(\.$slug).all()
        return try rows.map { $0.entity(workspaceSlug: try $0.joined(WorkspaceModel.self).slug) }
    }

    func repositories(in workspace: Workspace, window: ListWindow, on db: any StoreHandle) async throws -> [Repository] {
        try await RepositoryModel.query(on: db.fluent).filter(\.$workspaceID == workspace.id).sort(\.$slug)
            .range(window.offset..<(window.offset + window.limit)).all().map { $0.entity(workspaceSlug: workspace.slug) }
    }

    func repositoryCount(in workspace: Workspace, upTo limit: Int, on db: any StoreHandle) async throws -> Int {
        try await db.count("SELECT 1 FROM repositories WHERE workspace_id = \(bind: workspace.id) LIMIT \(bind: limit)")
    }

    func setPermission(_ level: AccessLevel, of userID: UUID, on repository: Repository, on db: any StoreHandle) async throws {
        let existing = try await PermissionModel.query(on: db.fluent).filter(\.$repositoryID == repository.id).filter(\.$userID == userID).first()
        if level == .none {
            try await existing?.delete(on: db.fluent)
            return
        }
        let model = existing ?? PermissionModel()
        model.repositoryID = repository.id
        model.userID = userID
        model.level = level.rawValue
        try await unique { try await model.save(on: db.fluent) }
    }

    func accountGrants(of userID: UUID, on db: any StoreHandle) async throws -> AccountGrantsByRepository {
        let rows = try await db.sql.raw(
            """
            SELECT p.repository_id AS target, p.level AS level, NULL AS role FROM repository_permissions p
              WHERE p.user_id = \(bind: userID)
            UNION ALL
            SELECT m.workspace_id AS target, NULL AS level, m.role AS role FROM workspace_members m
              WHERE m.user_id = \(bind: userID)
            """
        ).all()
        var grants = AccountGrantsByRepository()
        for row in rows {
            let target = try row.decode(column: "target", as: UUID.self)
            if let level = try row.decode(column: "level", as: Int?.self) { grants.explicit[target] = AccessLevel(rawValue: level) ?? AccessLevel.none }
            if let role = try row.decode(column: "role", as: String?.self) { grants.workspaceRoles[target] = WorkspaceRole(rawValue: role) }
        }
        return grants
    }

    func grantedRepositories(of userID: UUID, on db: any StoreHandle) async throws -> [(Repository, AccessLevel)] {
        let grants = try await accountGrants(of: userID, on: db)
        let workspaces = grants.workspaceRoles.filter { $0.value.impliedRepositoryAccess > .none }.keys
        let explicit = grants.explicit.filter { $0.value > .none }.keys
        var named: [SQLQueryString] = []
        if !explicit.isEmpty { named.append("r.id IN (\(binds: Array(explicit)))") }
        if !workspaces.isEmpty { named.append("r.workspace_id IN (\(binds: Array(workspaces)))") }
        guard !named.isEmpty else { return [] }
        // One query for every repository the grants name, by id or by workspace.
        let rows = try await db.sql.raw(
            """
            SELECT r.id, r.workspace_id, r.slug, r.is_private, w.slug AS workspace_slug
            FROM repositories r JOIN workspaces w ON w.id = r.workspace_id
            WHERE \(named.joined(separator: " OR "))
            """
        ).all()
        return try rows.map { row in
            let repository = try Rows.repository(row, id: "id", slug: "slug")
            let role = grants.workspaceRoles[repository.workspaceID]?.impliedRepositoryAccess ?? .none
            return (repository, max(role, grants.explicit[repository.id] ?? .none))
        }.filter { $0.1 > .none }.sorted { $0.0.fullName < $1.0.fullName }
    }

    func administrators(of workspace: Workspace, on db: any StoreHandle) async throws -> [User] {
        try await workspaceAdministrators(workspace.id, on: db).sorted { $0.username < $1.username }
    }

    /// The owner and admins of a workspace, unsorted.
    private func workspaceAdministrators(_ workspaceID: UUID, on db: any StoreHandle) async throws -> [User] {
        let roles = [WorkspaceRole.owner.rawValue, WorkspaceRole.admin.rawValue]
        let members = try await MemberModel.query(on: db.fluent).filter(\.$workspaceID == workspaceID).filter(\.$role ~~ roles)
            .join(UserModel.self, on: \MemberModel.$userID == \UserModel.$id).all()
        return try members.map { try $0.joined(UserModel.self).entity }
    }

    func setAllowWriteDeployKeys(_ allowed: Bool, in workspace: Workspace, on db: any StoreHandle) async throws {
        try await WorkspaceModel.query(on: db.fluent).filter(\.$id == workspace.id).set(\.$allowWriteDeployKeys, to: allowed).update()
    }

    func administrators(of repository: Repository, on db: any StoreHandle) async throws -> [User] {
        let members = try await workspaceAdministrators(repository.workspaceID, on: db)
        let explicit = try await PermissionModel.query(on: db.fluent).filter(\.$repositoryID == repository.id)
            .filter(\.$level >= AccessLevel.admin.rawValue)
            .join(UserModel.self, on: \PermissionModel.$userID == \UserModel.$id).all()
        var seen = Set<UUID>()
        let users = try members + explicit.map { try $0.joined(UserModel.self).entity }
        return users.filter { seen.insert($0.id).inserted }.sorted { $0.username < $1.username }
    }
}

/// Entities decoded from plain SQL rows, column by column.
enum Rows {
    static func repository(_ row: any SQLRow, id: String, slug: String) throws -> Repository {
        Repository(
            id: try row.decode(column: id, as: UUID.self), workspaceID: try row.decode(column: "workspace_id", as: UUID.self),
            workspaceSlug: try row.decode(column: "workspace_slug", as: String.self), slug: try row.decode(column: slug, as: String.self),
            isPrivate: try row.decode(column: "is_private", as: Bool.self))
    }

    static func user(_ row: any SQLRow, id: String) throws -> User {
        User(
            id: try row.decode(column: id, as: UUID.self), username: try row.decode(column: "username", as: String.self),
            email: try row.decode(column: "email", as: String.self), displayName: try row.decode(column: "display_name", as: String.self))
    }
}
