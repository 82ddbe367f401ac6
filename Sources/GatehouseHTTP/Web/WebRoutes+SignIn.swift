import Foundation
import GatehouseCore
import Hummingbird

extension WebRoutes {
    func addSignIn(to pages: RouterGroup<APIContext>) {
        let sessions = sessions
        let templates = templates
        let store = services.store

        pages.get("/login") { request, context in
            if context.actor.user != nil { return redirect("/") }
            return templates.page("login", title: "Sign in", ["next": Self.safeNext(request.uri.queryParameters.get("next"))], context: context)
        }
        pages.post("/login") { request, context in
            let username = context.form["username"] ?? ""
            let next = Self.safeNext(context.form["next"])
            do {
                let (secret, _) = try await sessions.signIn(username: username, password: context.form["password"] ?? "", sourceIP: context.sourceIP)
                var response = redirect(next)
                response.setCookie(Cookie(name: WebSessionMiddleware.sessionCookie, value: secret, maxAge: Int(SessionService.sessionLifetime),
                                          path: "/", secure: request.isSecure, httpOnly: true, sameSite: .lax))
                return response
            } catch let error as SignInError {
                let status: HTTPResponse.Status = if case .tooManyAttempts = error { .tooManyRequests } else { .unauthorized }
                return templates.page("login", title: "Sign in", ["error": error.description, "typedUsername": username, "next": next],
                                      context: context, status: status)
            }
        }
        pages.post("/logout") { request, _ in
            if let secret = request.cookies[WebSessionMiddleware.sessionCookie]?.value { try await sessions.signOut(sessionSecret: secret) }
            var response = redirect("/login")
            response.setCookie(Cookie(name: WebSessionMiddleware.sessionCookie, value: "", maxAge: 0, path: "/", secure: request.isSecure,
                                      httpOnly: true, sameSite: .lax))
            return response
        }
        pages.get("/") { request, context in
            let user = try Self.signedIn(request, context)
            var byWorkspace: [String: [[String: Any]]] = [:]
            for repository in try await store.repositories() {
                let grants = try await store.accountGrants(user: user, repository: repository)
                guard case .allowed = Access.authorize(context.actor, operation: .read, on: repository, requestedPath: repository.fullName,
                                                       accountGrants: grants) else { continue }
                byWorkspace[repository.workspaceSlug, default: []].append(["fullName": repository.fullName, "isPrivate": repository.isPrivate])
            }
            var workspaces: [[String: Any]] = []
            for slug in byWorkspace.keys.sorted() {
                let workspace = try await store.workspace(slug: slug)
                let role = try await workspace.asyncFlatMap { try await store.members(workspace: $0).first { $0.0.id == user.id }?.1 }
                workspaces.append(["slug": slug, "repositories": byWorkspace[slug]!, "isAdmin": (role?.impliedRepositoryAccess ?? .none) >= .admin])
            }
            return templates.page("dashboard", title: "Repositories", ["workspaces": workspaces], context: context)
        }
    }

    /// Only paths on this site: no scheme, no `//host`, no backslashes.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\"), !next.contains("://") else { return "/" }
        return next
    }
}

extension Optional {
    func asyncFlatMap<T>(_ transform: (Wrapped) async throws -> T?) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
