import Foundation
import GatehouseCore
import Hummingbird

extension APIServer {
    /// `/2.0/users/{selected_user}/ssh-keys[/{key_id}]`, as in Bitbucket Cloud: `selected_user` is a username or
    /// `{uuid}`, `key_id` the key's `{uuid}`.
    func addSSHKeyRoutes(to router: APIRouter) {
        let keys = services.keys
        let collection = "/2.0/users/{selected_user}/ssh-keys"

        router.get(collection) { request, context in
            let page = try PageRequest(request)
            let (owner, list) = try await keys.listAccountKeys(actor: try context.signedIn(), username: context.selectedUser, window: page.window)
            return JSON.response(page.envelope(list, url: request.urlWithoutQuery) { SSHKeyJSON($0, owner: owner, base: request.baseURL) })
        }
        router.post(collection) { request, context in
            let actor = try context.signedIn()
            let manages = { _ = try await keys.accountForKeyChange(actor: actor, username: context.selectedUser) }
            let input = try await request.decode(as: KeyInput.self, context: context, checkingFirst: manages)
            let expiresAt = try await validated({ try expiry(input.expires_on) }, checkingFirst: manages)
            let (owner, key) = try await keys.addAccountKey(
                actor: actor, username: context.selectedUser, label: input.label,
                keyText: input.key, expiresAt: expiresAt, sourceIP: context.sourceIP)
            var body = SSHKeyJSON(key, owner: owner, base: request.baseURL)
            body.notice = key.frontEndNote
            return JSON.response(body, status: .created)
        }
        router.get(collection + "/{key_id}") { request, context in
            let (owner, key) = try await keys.accountKey(actor: try context.signedIn(), username: context.selectedUser, id: try context.sshKeyID())
            return JSON.response(SSHKeyJSON(key, owner: owner, base: request.baseURL))
        }
        router.put(collection + "/{key_id}") { request, context in
            let actor = try context.signedIn()
            let id = try context.sshKeyID()
            let input = try await request.decode(as: LabelInput.self, context: context) {
                _ = try await keys.accountKey(actor: actor, username: context.selectedUser, id: id, write: true)
            }
            let (owner, key) = try await keys.renameAccountKey(
                actor: actor, username: context.selectedUser, id: id, label: input.label,
                keyText: input.key, sourceIP: context.sourceIP)
            return JSON.response(SSHKeyJSON(key, owner: owner, base: request.baseURL))
        }
        router.delete(collection + "/{key_id}") { _, context in
            try await keys.removeAccountKey(
                actor: try context.signedIn(), username: context.selectedUser, id: try context.sshKeyID(),
                sourceIP: context.sourceIP)
            return Response(status: .noContent)
        }
    }
}

extension APIContext {
    /// The `selected_user` path parameter, percent-decoded (clients encode the braces of `{uuid}`).
    var selectedUser: String {
        let raw = parameters.get("selected_user") ?? ""
        return raw.removingPercentEncoding ?? raw
    }

    /// An SSH key id is the key's `{uuid}`; the braces may be percent-encoded or left out.
    func sshKeyID() throws -> UUID {
        guard let id = UUID(braced: parameters.get("key_id") ?? "") else {
            throw APIError(.notFound, "No such SSH key.", detail: "SSH key ids are the key's {uuid}; list them with GET /2.0/users/\(selectedUser)/ssh-keys.")
        }
        return id
    }
}
