import FluentKit
import Foundation
import GatehouseCore
import SQLKit

final class RemovalModel: Model, @unchecked Sendable {
    static let schema = "key_removals"
    @ID(key: .id) var id: UUID?
    @Field(key: "key_id") var keyID: UUID
    @Field(key: "workspace_id") var workspaceID: UUID
    /// Comma-separated attachment ids.
    @Field(key: "repository_attachments") var repositoryAttachments: String
    @Field(key: "workspace_attachments") var workspaceAttachments: String
    @Field(key: "due_at") var dueAt: Date
    @Field(key: "requested_by") var requestedBy: String

    init() {}

    var entity: ScheduledRemoval {
        ScheduledRemoval(
            id: id!, keyID: keyID, workspaceID: workspaceID, repositoryAttachments: Self.ids(repositoryAttachments),
            workspaceAttachments: Self.ids(workspaceAttachments), dueAt: dueAt, requestedBy: requestedBy)
    }

    static func ids(_ column: String) -> [Int] { column.split(separator: ",").compactMap { Int($0) } }
}

extension FluentKeyStore {
    func schedule(_ removal: ScheduledRemoval, on db: any StoreHandle) async throws {
        let model = RemovalModel()
        model.id = removal.id
        model.keyID = removal.keyID
        model.workspaceID = removal.workspaceID
        model.repositoryAttachments = removal.repositoryAttachments.map(String.init).joined(separator: ",")
        model.workspaceAttachments = removal.workspaceAttachments.map(String.init).joined(separator: ",")
        model.dueAt = removal.dueAt
        model.requestedBy = removal.requestedBy
        try await model.create(on: db.fluent)
    }

    func dueRemovals(now: Date, limit: Int, on db: any StoreHandle) async throws -> [ScheduledRemoval] {
        try await RemovalModel.query(on: db.fluent).filter(\.$dueAt <= now).sort(\.$dueAt).limit(limit).all().map(\.entity)
    }

    func take(_ removal: ScheduledRemoval, on db: any StoreHandle) async throws -> Bool {
        let deleted = try await db.sql.raw("DELETE FROM key_removals WHERE id = \(bind: removal.id) RETURNING id").all()
        return !deleted.isEmpty
    }
}

extension FluentKeyStore {
    func expiring(before date: Date, warnedBelow stage: Int, on db: any StoreHandle) async throws -> (
        repositories: [DeployKey], workspaces: [WorkspaceDeployKey]
    ) {
        let repositoryIDs = try await AttachmentModel.query(on: db.fluent).filter(\.$expiresAt <= date).filter(\.$expiryWarnings < stage).all()
            .compactMap(\.id)
        let workspaceRows = try await WorkspaceAttachmentModel.query(on: db.fluent).filter(\.$expiresAt <= date)
            .filter(\.$expiryWarnings < stage).all()
        var workspaces: [WorkspaceDeployKey] = []
        for row in workspaceRows {
            workspaces += try await workspaceDeployKeys(.one(row.id!, workspace: row.workspaceID), on: db)
        }
        return (try await deployKeys(.ids(repositoryIDs), on: db), workspaces)
    }

    func markWarned(_ attachment: AttachmentID, stage: Int, on db: any StoreHandle) async throws -> Bool {
        let changed: [any SQLRow] =
            switch attachment {
            case .repository(let id):
                try await db.sql.raw(
                    "UPDATE deploy_keys SET expiry_warnings = \(bind: stage) WHERE id = \(bind: id) AND expiry_warnings < \(bind: stage) RETURNING id"
                ).all()
            case .workspace(let id):
                try await db.sql.raw(
                    "UPDATE workspace_deploy_keys SET expiry_warnings = \(bind: stage) WHERE id = \(bind: id) AND expiry_warnings < \(bind: stage) RETURNING id"
                ).all()
            }
        return !changed.isEmpty
    }
}

extension FluentDirectoryStore {
    func setMaxDeployKeyLifetime(days: Int?, in workspace: Workspace, on db: any StoreHandle) async throws {
        try await WorkspaceModel.query(on: db.fluent).filter(\.$id == workspace.id).set(\.$maxDeployKeyLifetimeDays, to: days).update()
    }
}
