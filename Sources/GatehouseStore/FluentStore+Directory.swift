import FluentKit
import Foundation
import GatehouseCore

extension FluentStore {
    public func createUser(username: String, email: String, displayName: String) async throws -> User {
        let model = UserModel()
        model.username = username
        model.email = email
        model.displayName = displayName
        model.createdAt = Date()
        try await mapConstraint(.alreadyExists("A user named '\(username)' already exists.")) {
            try await model.create(on: database)
        }
        return model.entity
    }

    public func user(username: String) async throws -> User? {
        try await UserModel.query(on: database).filter(\.$username == username).first()?.entity
    }

    public func user(id: UUID) async throws -> User? {
        try await UserModel.find(id, on: database)?.entity
    }

    public func users() async throws -> [User] {
        try await UserModel.query(on: database).sort(\.$username).all().map(\.entity)
    }

    public func createWorkspace(slug: String, name: String, owner: User, seatLimit: Int) async throws -> Workspace {
        let model = WorkspaceModel()
        model.slug = slug
        model.name = name
        model.ownerID = owner.id
        model.seatLimit = seatLimit
        try await mapConstraint(.alreadyExists("A workspace named '\(slug)' already exists.")) {
            try await database.transaction { db in
                try await model.create(on: db)
                let member = MemberModel()
                member.workspaceID = model.id!
                member.userID = owner.id
                member.role = WorkspaceRole.owner.rawValue
                try await member.create(on: db)
            }
        }
        return model.entity
    }

    public func workspace(slug: String) async throws -> Workspace? {
        try await WorkspaceModel.query(on: database).filter(\.$slug == slug).first()?.entity
    }

    public func setMember(workspace: Workspace, user: User, role: WorkspaceRole) async throws {
        try await database.transaction { db in
            if let existing = try await MemberModel.query(on: db).filter(\.$workspaceID == workspace.id).filter(\.$userID == user.id).first() {
                existing.role = role.rawValue
                try await existing.update(on: db)
                return
            }
            // Seats are people: deployment keys live in another table and are never counted here.
            let used = try await MemberModel.query(on: db).filter(\.$workspaceID == workspace.id).count()
            guard used < workspace.seatLimit else {
                throw GatehouseError.seatLimitReached(workspace: workspace.slug, limit: workspace.seatLimit)
            }
            let member = MemberModel()
            member.workspaceID = workspace.id
            member.userID = user.id
            member.role = role.rawValue
            try await member.create(on: db)
        }
    }

    public func members(workspace: Workspace) async throws -> [(User, WorkspaceRole)] {
        let rows = try await MemberModel.query(on: database).filter(\.$workspaceID == workspace.id)
            .join(UserModel.self, on: \MemberModel.$userID == \UserModel.$id).all()
        return try rows.map { (try $0.joined(UserModel.self).entity, WorkspaceRole(rawValue: $0.role) ?? .member) }
    }

    public func createRepository(workspace: Workspace, slug: String, isPrivate: Bool) async throws -> Repository {
        let model = RepositoryModel()
        model.workspaceID = workspace.id
        model.slug = slug
        model.isPrivate = isPrivate
        model.createdAt = Date()
        try await mapConstraint(.alreadyExists("Repository \(workspace.slug)/\(slug) already exists.")) {
            try await model.create(on: database)
        }
        return model.entity(workspaceSlug: workspace.slug)
    }

    public func deleteRepository(_ repository: Repository) async throws {
        try await RepositoryModel.query(on: database).filter(\.$id == repository.id).delete()
    }

    public func repositories() async throws -> [Repository] {
        let rows = try await RepositoryModel.query(on: database)
            .join(WorkspaceModel.self, on: \RepositoryModel.$workspaceID == \WorkspaceModel.$id)
            .sort(WorkspaceModel.self, \.$slug).sort(\.$slug).all()
        return try rows.map { $0.entity(workspaceSlug: try $0.joined(WorkspaceModel.self).slug) }
    }

    public func repositories(workspace: Workspace) async throws -> [Repository] {
        try await RepositoryModel.query(on: database).filter(\.$workspaceID == workspace.id).sort(\.$slug).all()
            .map { $0.entity(workspaceSlug: workspace.slug) }
    }

    public func setPermission(repository: Repository, user: User, level: AccessLevel) async throws {
        try await database.transaction { db in
            let existing = try await PermissionModel.query(on: db).filter(\.$repositoryID == repository.id).filter(\.$userID == user.id).first()
            if level == .none {
                try await existing?.delete(on: db)
                return
            }
            let model = existing ?? PermissionModel()
            model.repositoryID = repository.id
            model.userID = user.id
            model.level = level.rawValue
            try await model.save(on: db)
        }
    }

    public func grantedRepositories(user: User) async throws -> [(Repository, AccessLevel)] {
        var levels: [UUID: (Repository, AccessLevel)] = [:]
        let permissions = try await PermissionModel.query(on: database).filter(\.$userID == user.id)
            .join(RepositoryModel.self, on: \PermissionModel.$repositoryID == \RepositoryModel.$id)
            .join(WorkspaceModel.self, on: \RepositoryModel.$workspaceID == \WorkspaceModel.$id).all()
        for row in permissions {
            let repository = try row.joined(RepositoryModel.self).entity(workspaceSlug: try row.joined(WorkspaceModel.self).slug)
            levels[repository.id] = (repository, AccessLevel(rawValue: row.level) ?? .none)
        }
        let memberships = try await MemberModel.query(on: database).filter(\.$userID == user.id).all()
        for membership in memberships {
            let implied = WorkspaceRole(rawValue: membership.role)?.impliedRepositoryAccess ?? .none
            guard implied > .none, let workspace = try await WorkspaceModel.find(membership.workspaceID, on: database) else { continue }
            for model in try await RepositoryModel.query(on: database).filter(\.$workspaceID == workspace.id!).all() {
                let repository = model.entity(workspaceSlug: workspace.slug)
                levels[repository.id] = (repository, max(implied, levels[repository.id]?.1 ?? .none))
            }
        }
        return levels.values.filter { $0.1 > .none }.sorted { $0.0.fullName < $1.0.fullName }
    }

    public func appendAudit(_ entry: AuditEntry) async throws {
        try await AuditModel(entry).create(on: database)
    }

    public func auditEntries(workspace: Workspace?, limit: Int, offset: Int) async throws -> [AuditEntry] {
        try await auditQuery(workspace).sort(\.$at, .descending).sort(\.$id).offset(offset).limit(limit).all().map(\.entity)
    }

    public func auditEntryCount(workspace: Workspace?) async throws -> Int {
        try await auditQuery(workspace).count()
    }

    private func auditQuery(_ workspace: Workspace?) -> QueryBuilder<AuditModel> {
        let query = AuditModel.query(on: database)
        return if let workspace { query.filter(\.$workspaceID == workspace.id) } else { query }
    }
}
