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

    func count(workspace: Workspace?, upTo limit: Int, on db: any StoreHandle) async throws -> Int {
        if let workspace {
            try await db.count("SELECT 1 FROM audit_log WHERE workspace_id = \(bind: workspace.id) LIMIT \(bind: limit)")
        } else {
            try await db.count("SELECT 1 FROM audit_log LIMIT \(bind: limit)")
        }
    }

    private func query(_ workspace: Workspace?, on db: any StoreHandle) -> QueryBuilder<AuditModel> {
        let query = AuditModel.query(on: db.fluent)
        return if let workspace { query.filter(\.$workspaceID == workspace.id) } else { query }
    }
}
