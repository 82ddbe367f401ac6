import GatehouseCore
import Hummingbird

extension APIServer {
    /// `/2.0/repositories/{workspace}[/{repo_slug}]`: discover and create repositories.
    func addRepositoryRoutes(to router: APIRouter) {
        let directory = services.directory

        router.get("/2.0/repositories/{workspace}") { request, context in
            let page = try PageRequest(request)
            let list = try await directory.visibleRepositories(actor: context.actor, workspace: context.workspaceName, window: page.window)
            return JSON.response(page.envelope(list, url: request.urlWithoutQuery) { RepositoryJSON($0, base: request.baseURL) })
        }
        router.get("/2.0/repositories/{workspace}/{repo_slug}") { request, context in
            let repository = try await directory.repository(actor: context.actor, context.repositoryName)
            return JSON.response(RepositoryJSON(repository, base: request.baseURL))
        }
        router.post("/2.0/repositories/{workspace}/{repo_slug}") { request, context in
            let actor = try context.signedIn()
            // An empty body creates a private repository, as the safe default.
            let input = request.headers[.contentLength] == "0" ? RepositoryInput() : try await request.decode(as: RepositoryInput.self, context: context)
            let repository = try await directory.createRepository(
                actor: actor, workspace: context.workspaceName,
                slug: context.parameters.get("repo_slug") ?? "",
                isPrivate: input.is_private ?? true)
            return JSON.response(RepositoryJSON(repository, base: request.baseURL))
        }
    }
}
