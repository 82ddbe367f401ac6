import Foundation
import GatehouseCore
import Hummingbird

extension APIServer {
    /// `/2.0/workspaces/{workspace}/deploy-keys[/{key_id}]` (our addition, in Bitbucket's shapes): one key for the
    /// workspace's repositories that its `repositories` selector names, those created later included.
    func addWorkspaceDeployKeyRoutes(to router: APIRouter) {
        let keys = services.keys
        let directory = services.directory
        let registrations = services.registrations
        let collection = "/2.0/workspaces/{workspace}/deploy-keys"

        router.get(collection) { request, context in
            let page = try PageRequest(request)
            let list = try await keys.listWorkspaceDeployKeys(actor: try context.signedIn(), workspace: context.workspaceName, window: page.window)
            return JSON.response(page.envelope(list, url: request.urlWithoutQuery, cursor: \.id) { WorkspaceDeployKeyJSON($0, base: request.baseURL) })
        }
        router.post(collection) { request, context in
            let actor = try context.signedIn()
            let administers = { _ = try await directory.administeredWorkspace(actor: actor, context.workspaceName) }
            let input = try await request.decode(as: WorkspaceDeployKeyInput.self, context: context, checkingFirst: administers)
            let expiresAt = try await validated({ try expiry(input.expires_on) }, checkingFirst: administers)
            let (key, label, selector, permission) = try await validated(
                {
                    guard let key = input.key else { throw APIError(.badRequest, "The field `key` is required.", detail: "See /2.0/openapi.json.") }
                    guard let label = input.label else {
                        throw APIError(.badRequest, "The field `label` is required.", detail: "See /2.0/openapi.json.")
                    }
                    return (key, label, try (input.repositories ?? .all).selector(), try keyPermission(input.permission, input.ref_rules))
                }, checkingFirst: administers)
            let added = try await keys.addWorkspaceDeployKey(
                actor: actor, workspace: context.workspaceName, label: label, keyText: key, selector: selector, permission: permission,
                expiresAt: expiresAt, sourceIP: context.sourceIP)
            return JSON.response(WorkspaceDeployKeyJSON(added, base: request.baseURL))
        }
        // Fleet operations (our addition): where one key is, and one key on many repositories at once.
        router.get(collection + "/usage") { request, context in
            let actor = try context.signedIn()
            guard let fingerprint = request.uri.queryParameters.get("fingerprint") else {
                throw APIError(.badRequest, "Give the key's fingerprint: ?fingerprint=SHA256:….", detail: "ssh-keygen -lf KEY.pub prints it.")
            }
            let usage = try await keys.usage(actor: actor, fingerprint: fingerprint, workspace: context.workspaceName)
            return JSON.response(KeyUsageJSON(usage, base: request.baseURL))
        }
        router.post(collection + "/attach") { request, context in
            let actor = try context.signedIn()
            let administers = { _ = try await directory.administeredWorkspace(actor: actor, context.workspaceName) }
            let input = try await request.decode(as: AttachInput.self, context: context, checkingFirst: administers)
            let permission = try await validated({ try keyPermission(input.permission, input.ref_rules) }, checkingFirst: administers)
            let outcomes = try await keys.attach(
                actor: actor, workspace: context.workspaceName, repositories: input.repositories, label: input.label, keyText: input.key,
                permission: permission, sourceIP: context.sourceIP)
            return JSON.response(PageRequest.all(outcomes.map { AttachOutcomeJSON($0, base: request.baseURL) }))
        }
        // The one route a registration token opens: TokenAuthentication lets such a token through to this path only.
        router.post(TokenAuthentication.registerRoute) { request, context in
            guard let secret = context.registrationSecret else {
                var error = APIError.unauthorized()
                error.message = "Registering a key takes a registration token."
                error.detail = "Send Authorization: Bearer REGISTRATION-TOKEN (gatehouse registration-token create WORKSPACE makes one)."
                throw error
            }
            let input = try await request.decode(as: KeyInput.self, context: context)
            let registered = try await registrations.register(
                secret: secret, workspace: context.workspaceName, keyText: input.key, label: input.label, sourceIP: context.sourceIP)
            return JSON.response(WorkspaceDeployKeyJSON(registered, base: request.baseURL))
        }
        router.get("/2.0/workspaces/{workspace}/registration-tokens") { request, context in
            let list = try await registrations.list(actor: try context.signedIn(), workspace: context.workspaceName)
            let page = try PageRequest(request)
            return JSON.response(page.slice(list.map(RegistrationTokenJSON.init), url: request.urlWithoutQuery))
        }
        router.post("/2.0/workspaces/{workspace}/registration-tokens") { request, context in
            let actor = try context.signedIn()
            let administers = { _ = try await directory.administeredWorkspace(actor: actor, context.workspaceName) }
            let input = try await request.decode(as: RegistrationTokenInput.self, context: context, checkingFirst: administers)
            let (selector, permission) = try await validated(
                { (try (input.repositories ?? .all).selector(), try keyPermission(input.permission, input.ref_rules)) }, checkingFirst: administers)
            let (token, secret) = try await registrations.create(
                actor: actor, workspace: context.workspaceName, selector: selector, permission: permission, uses: input.uses,
                lifetime: input.expires_in_hours.map { $0 * 3600 }, labelPrefix: input.label_prefix ?? "", sourceIP: context.sourceIP)
            var body = RegistrationTokenJSON(token)
            body.token = secret
            return JSON.response(body, status: .created)
        }
        router.delete("/2.0/workspaces/{workspace}/registration-tokens/{token_id}") { _, context in
            guard let id = UUID(braced: context.parameters.get("token_id") ?? "") else {
                throw APIError(.notFound, "No such registration token.", detail: "Token ids are UUIDs; list them with GET …/registration-tokens.")
            }
            try await registrations.revoke(actor: try context.signedIn(), workspace: context.workspaceName, id: id, sourceIP: context.sourceIP)
            return Response(status: .noContent)
        }
        router.post(collection + "/rotate") { request, context in
            let actor = try context.signedIn()
            let administers = { _ = try await directory.administeredWorkspace(actor: actor, context.workspaceName) }
            let input = try await request.decode(as: RotateInput.self, context: context, checkingFirst: administers)
            let rotation = try await keys.rotate(
                actor: actor, workspace: context.workspaceName, oldFingerprint: input.old, newKeyText: input.key,
                overlap: input.overlap_hours.map { $0 * 3600 }, sourceIP: context.sourceIP)
            return JSON.response(RotationJSON(rotation))
        }
        router.get(collection + "/{key_id}") { request, context in
            let attached = try await keys.workspaceDeployKey(actor: try context.signedIn(), workspace: context.workspaceName, id: try context.deployKeyID())
            return JSON.response(WorkspaceDeployKeyJSON(attached, base: request.baseURL))
        }
        router.put(collection + "/{key_id}") { request, context in
            let actor = try context.signedIn()
            let id = try context.deployKeyID()
            let exists = { _ = try await keys.workspaceDeployKey(actor: actor, workspace: context.workspaceName, id: id) }
            let input = try await request.decode(as: WorkspaceDeployKeyInput.self, context: context, checkingFirst: exists)
            let (selector, permission) = try await validated(
                {
                    (
                        try input.repositories?.selector(),
                        input.permission == nil && input.ref_rules == nil ? nil : try keyPermission(input.permission, input.ref_rules)
                    )
                }, checkingFirst: exists)
            let changed = try await keys.editWorkspaceDeployKey(
                actor: actor, workspace: context.workspaceName, id: id, label: input.label, selector: selector, permission: permission,
                keyText: input.key, sourceIP: context.sourceIP)
            return JSON.response(WorkspaceDeployKeyJSON(changed, base: request.baseURL))
        }
        router.delete(collection + "/{key_id}") { _, context in
            try await keys.removeWorkspaceDeployKey(
                actor: try context.signedIn(), workspace: context.workspaceName, id: try context.deployKeyID(), sourceIP: context.sourceIP)
            return Response(status: .noContent)
        }
    }
}
