import Foundation
import GatehouseCore
import Hummingbird

extension WebRoutes {
    /// Workspace settings → Deployment keys (workspace administrators): one key for all or the selected
    /// repositories, with the same Add key dialog as a repository's plus the selector; edit and delete.
    func addWorkspaceKeys(to pages: RouterGroup<WebContext>) {
        let templates = templates
        let keys = services.keys
        let directory = services.directory
        let base = "/workspaces/{workspace}/settings/deploy-keys"

        @Sendable func listPage(
            _ context: WebContext, notice: String? = nil, dialog: [String: Any] = [:], status: HTTPResponse.Status = .ok,
            pager: WebPager = WebPager()
        ) async throws -> Response {
            let slug = context.workspaceName
            let workspace = try await directory.administeredWorkspace(actor: context.actor, slug)
            let list = try await keys.listWorkspaceDeployKeys(actor: context.actor, workspace: slug, window: pager.window)
            let rows: [[String: Any]] = list.items.map { key in
                [
                    "id": key.id, "label": key.label, "type": key.key.typeName, "fingerprint": key.key.fingerprint,
                    "repositories": key.selector.description, "addedOn": Self.date(key.addedAt), "addedBy": key.addedBy ?? "operator",
                    "lastUsed": Self.date(key.lastUsed), "csrf": context.csrfToken, "expires": Self.date(key.expiresAt),
                ].merging(Self.permissionValues(key.access, key.refRules)) { $1 }
            }
            var values: [String: Any] = [
                "slug": slug, "keys": rows, "hasKeys": (list.total ?? 1) > 0, "allowsWrite": workspace.allowWriteDeployKeys, "typedRepositories": "all",
            ]
            values.merge(pager.values(list, path: "/workspaces/\(slug)/settings/deploy-keys")) { $1 }
            if let notice { values["notice"] = notice }
            values.merge(dialog) { $1 }
            return templates.page("workspace_deploy_keys", title: "Deployment keys · \(slug)", values, context: context, status: status)
        }

        pages.get(RouterPath(base)) { request, context in
            _ = try Self.signedIn(request, context)
            let dialog: [String: Any] = request.uri.queryParameters.get("add") == nil ? [:] : ["dialogOpen": true]
            return try await listPage(
                context, notice: request.uri.queryParameters.get("notice").flatMap { Self.notices[$0] }, dialog: dialog,
                pager: try WebPager(request))
        }
        pages.post(RouterPath(base)) { request, context in
            _ = try Self.signedIn(request, context)
            let slug = context.workspaceName
            let form = try await request.decode(as: KeyForm.self, context: context)
            do {
                _ = try await keys.addWorkspaceDeployKey(
                    actor: context.actor, workspace: slug, label: form.label ?? "", keyText: form.key ?? "",
                    selector: try RepositorySelector(parsing: form.repositories ?? "all"), permission: try Self.permission(form.permission, form.rules),
                    expiresAt: try form.expiresAt(), sourceIP: context.sourceIP)
                return redirect("/workspaces/\(slug)/settings/deploy-keys?notice=added-workspace")
            } catch let error as GatehouseError where error.isAboutInput {
                return try await listPage(
                    context,
                    dialog: [
                        "dialogOpen": true, "error": error.description, "typedLabel": form.label ?? "",
                        "typedKey": Self.retyped(key: form.key ?? "", after: error), "typedRepositories": form.repositories ?? "all",
                        "typedRules": form.rules ?? "", "typedWrite": form.permission == "write", "typedExpires": form.expires ?? "",
                    ], status: .badRequest)
            }
        }
        pages.post(RouterPath(base + "/{key_id}")) { request, context in
            _ = try Self.signedIn(request, context)
            let slug = context.workspaceName
            let form = try await request.decode(as: KeyForm.self, context: context)
            do {
                _ = try await keys.editWorkspaceDeployKey(
                    actor: context.actor, workspace: slug, id: try Self.keyID(context), label: form.label,
                    selector: try form.repositories.map { try RepositorySelector(parsing: $0) },
                    permission: try Self.permission(form.permission, form.permission == "write" ? form.rules : nil), sourceIP: context.sourceIP)
                return redirect("/workspaces/\(slug)/settings/deploy-keys?notice=saved")
            } catch let error as GatehouseError where error.isAboutInput {
                return try await listPage(context, notice: error.description, status: .badRequest)
            }
        }
        pages.get(RouterPath(base + "/{key_id}/delete")) { request, context in
            _ = try Self.signedIn(request, context)
            let slug = context.workspaceName
            let key = try await keys.workspaceDeployKey(actor: context.actor, workspace: slug, id: try Self.keyID(context))
            let list = "/workspaces/\(slug)/settings/deploy-keys"
            return templates.page(
                "confirm_delete", title: "Delete deployment key",
                [
                    "heading": "Delete deployment key \"\(key.label)\" of workspace \(slug)?",
                    "question": "Machines using it can no longer clone the workspace's repositories from their next connection.",
                    "fingerprint": key.key.fingerprint, "action": "\(list)/\(key.id)/delete", "back": list,
                ], context: context)
        }
        pages.post(RouterPath(base + "/{key_id}/delete")) { request, context in
            _ = try Self.signedIn(request, context)
            let slug = context.workspaceName
            try await keys.removeWorkspaceDeployKey(actor: context.actor, workspace: slug, id: try Self.keyID(context), sourceIP: context.sourceIP)
            return redirect("/workspaces/\(slug)/settings/deploy-keys?notice=deleted")
        }
        pages.post("/workspaces/{workspace}/settings/policy") { request, context in
            _ = try Self.signedIn(request, context)
            let slug = context.workspaceName
            let form = try await request.decode(as: PolicyForm.self, context: context)
            try await directory.setAllowWriteDeployKeys(
                actor: context.actor, workspace: slug, allowed: form.allowWriteDeployKeys == "on", sourceIP: context.sourceIP)
            return redirect("/workspaces/\(slug)/settings/deploy-keys?notice=saved")
        }
    }
}

/// The workspace policy form: a checkbox, absent when unticked.
struct PolicyForm: Decodable {
    var allowWriteDeployKeys: String?

    enum CodingKeys: String, CodingKey {
        case allowWriteDeployKeys = "allow_write_deploy_keys"
    }
}
