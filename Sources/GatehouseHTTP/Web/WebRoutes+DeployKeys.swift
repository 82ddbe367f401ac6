import Foundation
import GatehouseCore
import Hummingbird

extension WebRoutes {
    /// Repository settings → Deployment keys: list, the Add key dialog, edit a label in place, delete with a confirmation.
    func addDeployKeys(to pages: RouterGroup<WebContext>) {
        let templates = templates
        let keys = services.keys
        let base = "/{workspace}/{repo_slug}/admin/deploy-keys"

        @Sendable func listPage(
            _ context: WebContext, notice: String? = nil, dialog: [String: Any] = [:],
            status: HTTPResponse.Status = .ok, pager: WebPager = WebPager()
        ) async throws -> Response {
            let name = context.repositoryName
            let list = try await keys.listDeployKeys(actor: context.actor, repository: name, window: pager.window)
            let rows: [[String: Any]] = list.items.map { key in
                [
                    "id": key.id, "label": key.label,
                    "type": key.key.certificatePrincipals.map { "\(key.key.typeName) certificate authority for \($0.joined(separator: ", "))" }
                        ?? key.key.typeName, "fingerprint": key.key.fingerprint,
                    "comment": key.key.comment ?? "", "addedOn": Self.date(key.addedAt), "addedBy": key.addedBy ?? "operator",
                    "lastUsed": Self.date(key.lastUsed), "csrf": context.csrfToken, "expires": Self.date(key.expiresAt),
                ].merging(Self.permissionValues(key.access, key.refRules)) { $1 }
            }
            let fromWorkspace: [[String: Any]] = try await keys.workspaceDeployKeys(actor: context.actor, covering: name).map { key in
                [
                    "label": key.label, "fingerprint": key.key.fingerprint, "repositories": key.selector.description,
                    "workspace": key.workspace.slug, "lastUsed": Self.date(key.lastUsed),
                ].merging(Self.permissionValues(key.access, key.refRules)) { $1 }
            }
            var values: [String: Any] = [
                "fullName": name, "keys": rows, "hasKeys": (list.total ?? 1) > 0, "onDeployKeys": true, "fromWorkspace": fromWorkspace,
                "hasWorkspaceKeys": !fromWorkspace.isEmpty,
            ]
            values.merge(pager.values(list, path: "/\(name)/admin/deploy-keys")) { $1 }
            if let notice { values["notice"] = notice }
            values.merge(dialog) { $1 }
            return templates.page("deploy_keys", title: "Deployment keys · \(name)", values, context: context, status: status)
        }

        pages.get(RouterPath(base)) { request, context in
            _ = try Self.signedIn(request, context)
            let dialog: [String: Any] = request.uri.queryParameters.get("add") == nil ? [:] : ["dialogOpen": true]
            let notice = request.uri.queryParameters.get("notice").flatMap { Self.notices[$0] }
            return try await listPage(context, notice: notice, dialog: dialog, pager: try WebPager(request))
        }
        pages.post(RouterPath(base)) { request, context in
            _ = try Self.signedIn(request, context)
            let form = try await request.decode(as: KeyForm.self, context: context)
            let label = form.label ?? ""
            let text = form.key ?? ""
            let principals = (form.principals ?? "").split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init)
            do {
                let added = try await keys.addDeployKey(
                    actor: context.actor, repositories: [context.repositoryName], label: label,
                    keyText: text, certificatePrincipals: principals.isEmpty ? nil : principals,
                    permission: try Self.permission(form.permission, form.rules), expiresAt: try form.expiresAt(), sourceIP: context.sourceIP)
                let notice = added.first?.key.frontEndNote == nil ? "added" : "added-openssh"
                return redirect("/\(context.repositoryName)/admin/deploy-keys?notice=\(notice)")
            } catch let error as GatehouseError where error.isAboutInput {
                // The dialog stays open with the precise reason and what was typed.
                return try await listPage(
                    context,
                    dialog: [
                        "dialogOpen": true, "error": error.description, "typedLabel": label,
                        "typedKey": Self.retyped(key: text, after: error),
                        "typedPrincipals": form.principals ?? "", "typedRules": form.rules ?? "",
                        "typedWrite": form.permission == "write", "typedExpires": form.expires ?? "",
                    ],
                    status: .badRequest)
            }
        }
        pages.post(RouterPath(base + "/{key_id}/label")) { request, context in
            _ = try Self.signedIn(request, context)
            let id = try Self.keyID(context)
            do {
                _ = try await keys.renameDeployKey(
                    actor: context.actor, repository: context.repositoryName, id: id,
                    label: try await request.decode(as: LabelForm.self, context: context).label ?? "", sourceIP: context.sourceIP)
                return redirect("/\(context.repositoryName)/admin/deploy-keys?notice=renamed")
            } catch let error as GatehouseError where error.isAboutInput {
                return try await listPage(context, dialog: ["notice": error.description], status: .badRequest)
            }
        }
        pages.post(RouterPath(base + "/{key_id}/permission")) { request, context in
            _ = try Self.signedIn(request, context)
            let id = try Self.keyID(context)
            let form = try await request.decode(as: KeyForm.self, context: context)
            do {
                _ = try await keys.editDeployKey(
                    actor: context.actor, repository: context.repositoryName, id: id,
                    permission: try Self.permission(form.permission, form.permission == "write" ? form.rules : nil),
                    sourceIP: context.sourceIP)
                return redirect("/\(context.repositoryName)/admin/deploy-keys?notice=permission")
            } catch let error as GatehouseError where error.isAboutInput {
                return try await listPage(context, dialog: ["notice": error.description], status: .badRequest)
            }
        }
        pages.get(RouterPath(base + "/{key_id}/delete")) { request, context in
            _ = try Self.signedIn(request, context)
            let key = try await keys.deployKey(actor: context.actor, repository: context.repositoryName, id: try Self.keyID(context))
            let list = "/\(context.repositoryName)/admin/deploy-keys"
            return templates.page(
                "confirm_delete", title: "Delete deployment key",
                [
                    "heading": "Delete deployment key \"\(key.label)\"?",
                    "question": "Machines using it can no longer clone \(context.repositoryName) from their next connection.",
                    "fingerprint": key.key.fingerprint, "action": "\(list)/\(key.id)/delete", "back": list,
                ], context: context)
        }
        pages.post(RouterPath(base + "/{key_id}/delete")) { request, context in
            _ = try Self.signedIn(request, context)
            try await keys.removeDeployKey(
                actor: context.actor, repository: context.repositoryName, id: try Self.keyID(context),
                sourceIP: context.sourceIP)
            return redirect("/\(context.repositoryName)/admin/deploy-keys?notice=deleted")
        }
    }

    /// A key's permission for the pages: the summary, the rules one per line, and whether it writes.
    static func permissionValues(_ access: AccessLevel, _ rules: [RefRule]) -> [String: Any] {
        [
            "permission": KeyPermission.summary(access, rules), "isWrite": access >= .write,
            "rulesText": rules.map(\.description).joined(separator: "\n"),
        ]
    }

    /// The permission a form asks for: `read` (the default) or `write` with rules, one per line.
    static func permission(_ permission: String?, _ rules: String?) throws -> KeyPermission {
        let written = (rules ?? "").split(whereSeparator: \.isWhitespace)
        return try KeyPermission(named: permission, rules: written.map { try RefRule(parsing: String($0)) })
    }

    static let notices = [
        "added": "Key added. Every administrator of this repository gets an email about it.",
        "renamed": "Label saved.",
        "permission": "Permission saved.",
        "saved": "Saved.",
        "added-workspace": "Key added. Every administrator of this workspace gets an email about it.",
        "deleted": "Key deleted.",
        "added-account": "Key added. You get an email about it.",
        "added-openssh":
            "Key added. Every administrator of this repository gets an email about it. The built-in SSH server accepts Ed25519 and ECDSA keys only: this key works through the OpenSSH front end.",
    ]

    static func keyID(_ context: WebContext) throws -> Int {
        guard let id = context.parameters.get("key_id", as: Int.self) else { throw WebError.notFound }
        return id
    }
}

extension GatehouseError {
    /// Refusals of what was typed (shown in the form again), as opposed to refusals about who may do what
    /// (shown as "not found" pages) and server faults.
    var isAboutInput: Bool { category == .invalidInput || category == .conflict }
}
