import Foundation
import GatehouseCore
import Hummingbird

extension WebRoutes {
    /// Account settings → SSH keys: the same list, dialog, label edit and delete as deployment keys.
    func addAccountKeys(to pages: RouterGroup<WebContext>) {
        let templates = templates
        let keys = services.keys

        @Sendable func listPage(
            _ user: User, _ context: WebContext, notice: String? = nil, dialog: [String: Any] = [:],
            status: HTTPResponse.Status = .ok, pager: WebPager = WebPager()
        ) async throws -> Response {
            let (_, list) = try await keys.listAccountKeys(actor: context.actor, username: user.username, window: pager.window)
            let rows: [[String: Any]] = list.items.map { key in
                [
                    "id": key.id.uuidString.lowercased(), "label": key.label ?? "", "type": key.typeName, "fingerprint": key.fingerprint,
                    "comment": key.comment ?? "", "addedOn": Self.date(key.createdAt), "lastUsed": Self.date(key.lastUsed),
                    "expires": Self.date(key.expiresAt), "csrf": context.csrfToken,
                ]
            }
            var values: [String: Any] = ["keys": rows, "hasKeys": (list.total ?? 1) > 0]
            values.merge(pager.values(list, path: "/account/ssh-keys")) { $1 }
            if let notice { values["notice"] = notice }
            values.merge(dialog) { $1 }
            return templates.page("account_keys", title: "Your SSH keys", values, context: context, status: status)
        }

        pages.get("/account/ssh-keys") { request, context in
            let user = try Self.signedIn(request, context)
            let dialog: [String: Any] = request.uri.queryParameters.get("add") == nil ? [:] : ["dialogOpen": true]
            return try await listPage(
                user, context, notice: request.uri.queryParameters.get("notice").flatMap { Self.notices[$0] }, dialog: dialog,
                pager: try WebPager(request))
        }
        pages.post("/account/ssh-keys") { request, context in
            let user = try Self.signedIn(request, context)
            let form = try await request.decode(as: KeyForm.self, context: context)
            let label = form.label ?? ""
            let text = form.key ?? ""
            do {
                _ = try await keys.addAccountKey(
                    actor: context.actor, username: user.username, label: label, keyText: text, expiresAt: try form.expiresAt(),
                    sourceIP: context.sourceIP)
                return redirect("/account/ssh-keys?notice=added-account")
            } catch let error as GatehouseError where error.isAboutInput {
                return try await listPage(
                    user, context,
                    dialog: [
                        "dialogOpen": true, "error": error.description, "typedLabel": label,
                        "typedKey": Self.retyped(key: text, after: error),
                    ],
                    status: .badRequest)
            }
        }
        pages.post("/account/ssh-keys/{key_id}/label") { request, context in
            let user = try Self.signedIn(request, context)
            do {
                _ = try await keys.renameAccountKey(
                    actor: context.actor, username: user.username, id: try Self.accountKeyID(context),
                    label: try await request.decode(as: LabelForm.self, context: context).label ?? "", sourceIP: context.sourceIP)
                return redirect("/account/ssh-keys?notice=renamed")
            } catch let error as GatehouseError where error.isAboutInput {
                return try await listPage(user, context, notice: error.description, status: .badRequest)
            }
        }
        pages.get("/account/ssh-keys/{key_id}/delete") { request, context in
            let user = try Self.signedIn(request, context)
            let (_, key) = try await keys.accountKey(actor: context.actor, username: user.username, id: try Self.accountKeyID(context))
            let id = key.id.uuidString.lowercased()
            return templates.page(
                "confirm_delete", title: "Delete SSH key",
                [
                    "heading": "Delete SSH key \"\(key.label ?? "")\"?", "question": "It stops working from its next connection.",
                    "fingerprint": key.fingerprint, "action": "/account/ssh-keys/\(id)/delete", "back": "/account/ssh-keys",
                ], context: context)
        }
        pages.post("/account/ssh-keys/{key_id}/delete") { request, context in
            let user = try Self.signedIn(request, context)
            try await keys.removeAccountKey(actor: context.actor, username: user.username, id: try Self.accountKeyID(context), sourceIP: context.sourceIP)
            return redirect("/account/ssh-keys?notice=deleted")
        }
    }

    static func accountKeyID(_ context: WebContext) throws -> UUID {
        guard let id = context.parameters.get("key_id").flatMap(UUID.init(uuidString:)) else { throw WebError.notFound }
        return id
    }
}
