import Foundation
import GatehouseCore
import Hummingbird

extension WebRoutes {
    /// Workspace settings (administrators): members and roles, seats used, and the audit log.
    func addWorkspaceSettings(to pages: RouterGroup<WebContext>) {
        let templates = templates
        let directory = services.directory

        pages.get("/workspaces/{workspace}/settings") { request, context in
            _ = try Self.signedIn(request, context)
            let slug = context.workspaceName
            // The audit log is for workspace administrators only: reading it is the permission check.
            let entries = try await directory.auditLog(actor: context.actor, workspace: slug, window: ListWindow(offset: 0, limit: 100)).items
            let (workspace, members) = try await directory.members(actor: context.actor, workspace: slug)
            let deployKeys = try await directory.deployKeyCount(actor: context.actor, workspace: slug)
            return templates.page(
                "workspace_settings", title: "Workspace \(slug)",
                [
                    "slug": slug, "seatsUsed": members.count, "seatLimit": workspace.seatLimit,
                    "deployKeyCount": deployKeys.map(String.init) ?? "more than \(ListPage<DeployKey>.countLimit.formatted())",
                    "members": members.map { ["username": $0.0.username, "email": $0.0.email, "role": $0.1.rawValue] },
                    "audit": entries.map {
                        [
                            "at": Self.date($0.at), "actor": $0.actor, "action": $0.action.rawValue, "object": $0.object,
                            "detail": $0.detail, "sourceIP": $0.sourceIP ?? "-",
                        ]
                    },
                ], context: context)
        }
    }
}
