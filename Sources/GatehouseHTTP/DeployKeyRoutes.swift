import GatehouseCore
import Hummingbird

extension APIServer {
    /// `/2.0/repositories/{workspace}/{repo_slug}/deploy-keys[/{key_id}]`, as in Bitbucket Cloud.
    func addDeployKeyRoutes(to router: APIRouter) {
        let keys = services.keys
        let directory = services.directory
        let collection = "/2.0/repositories/{workspace}/{repo_slug}/deploy-keys"

        router.get(collection) { request, context in
            let actor = try context.signedIn()
            let page = try PageRequest(request)
            let list = try await keys.listDeployKeys(actor: actor, repository: context.repositoryName, window: page.window)
            return JSON.response(page.envelope(list, url: request.urlWithoutQuery, cursor: \.id) { DeployKeyJSON($0, base: request.baseURL) })
        }
        router.post(collection) { request, context in
            let actor = try context.signedIn()
            let administers = { _ = try await directory.repository(actor: actor, context.repositoryName, operation: .administer) }
            let input = try await request.decode(as: DeployKeyInput.self, context: context, checkingFirst: administers)
            let permission = try await validated({ try keyPermission(input.permission, input.ref_rules) }, checkingFirst: administers)
            let expiresAt = try await validated({ try expiry(input.expires_on) }, checkingFirst: administers)
            let added = try await keys.addDeployKey(
                actor: actor, repositories: [context.repositoryName], label: input.label,
                keyText: input.key, certificatePrincipals: input.certificate_principals, permission: permission, expiresAt: expiresAt,
                sourceIP: context.sourceIP)
            var body = DeployKeyJSON(added[0], base: request.baseURL)
            body.notice = added[0].key.frontEndNote
            return JSON.response(body)
        }
        router.get(collection + "/{key_id}") { request, context in
            let deployKey = try await keys.deployKey(actor: try context.signedIn(), repository: context.repositoryName, id: try context.deployKeyID())
            return JSON.response(DeployKeyJSON(deployKey, base: request.baseURL))
        }
        router.put(collection + "/{key_id}") { request, context in
            let actor = try context.signedIn()
            let id = try context.deployKeyID()
            let exists = { _ = try await keys.deployKey(actor: actor, repository: context.repositoryName, id: id) }
            let input = try await request.decode(as: DeployKeyChangeInput.self, context: context, checkingFirst: exists)
            let permission = try await validated(
                { input.permission == nil && input.ref_rules == nil ? nil : try keyPermission(input.permission, input.ref_rules) },
                checkingFirst: exists)
            let renamed = try await keys.editDeployKey(
                actor: actor, repository: context.repositoryName, id: id, label: input.label, permission: permission,
                keyText: input.key, sourceIP: context.sourceIP)
            return JSON.response(DeployKeyJSON(renamed, base: request.baseURL))
        }
        router.delete(collection + "/{key_id}") { _, context in
            try await keys.removeDeployKey(
                actor: try context.signedIn(), repository: context.repositoryName,
                id: try context.deployKeyID(), sourceIP: context.sourceIP)
            return Response(status: .noContent)
        }
    }
}

extension RequestContext {
    /// `workspace` from the path.
    var workspaceName: String { parameters.get("workspace") ?? "" }

    /// `workspace/repo_slug` from the path (API routes and pages name repositories alike).
    var repositoryName: String { "\(workspaceName)/\(parameters.get("repo_slug") ?? "")" }
}

extension APIContext {
    /// A key id that is not a number names no key: 404, like any other missing key.
    func deployKeyID() throws -> Int {
        guard let id = parameters.get("key_id", as: Int.self) else {
            throw APIError(.notFound, "No such deployment key.", detail: "Deployment key ids are integers; list them with GET \(repositoryName)/deploy-keys.")
        }
        return id
    }
}
