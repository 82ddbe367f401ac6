import FluentKit
import Foundation
import GatehouseCore

struct FluentAuditStore: AuditStore {
    func append(_ entry: AuditEntry, on db: any StoreHandle) async throws {
        try await AuditModel(entry).create(on: db.fluent)
    }

    func entries(workspace: Workspace?, limit: Int, offset: Int, on db: any StoreHandle) async throws -> [AuditEntry] {
        try await query(workspace, on: db).sort(\.$at, .descending).sort(\.$id).offset(offset).limit(limit).all().map(\.entity)
    }

    func count(workspace: Workspace?, on db: any StoreHandle) async throws -> Int {
        try await query(workspace, on: db).count()
    }

    private func query(_ workspace: Workspace?, on db: any StoreHandle) -> QueryBuilder<AuditModel> {
        let query = AuditModel.query(on: db.fluent)
        return if let workspace { query.filter(\.$workspaceID == workspace.id) } else { query }
    }
}
