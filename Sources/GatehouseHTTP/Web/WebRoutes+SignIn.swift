import Foundation
import GatehouseCore
import Hummingbird

extension WebRoutes {
    func addSignIn(to pages: RouterGroup<WebContext>) {
        let sessions = sessions
        let templates = templates
        let directory = services.directory

        pages.get("/login") { request, context in
            if context.actor.user != nil { return redirect("/") }
            return templates.page("login", title: "Sign in", ["next": Self.safeNext(request.uri.queryParameters.get("next"))], context: context)
        }
        pages.post("/login") { request, context in
            let form = try await request.decode(as: SignInForm.self, context: context)
            let username = form.username ?? ""
            let next = Self.safeNext(form.next)
            do {
                let (secret, _) = try await sessions.signIn(username: username, password: form.password ?? "", sourceIP: context.sourceIP)
                var response = redirect(next)
                response.setCookie(
                    Cookie(
                        name: WebSessionMiddleware.sessionCookie, value: secret, maxAge: Int(SessionService.sessionLifetime),
                        path: "/", secure: request.isSecure, httpOnly: true, sameSite: .lax))
                return response
            } catch let error as SignInError {
                let status: HTTPResponse.Status = if case .tooManyAttempts = error { .tooManyRequests } else { .unauthorized }
                return templates.page(
                    "login", title: "Sign in", ["error": error.description, "typedUsername": username, "next": next],
                    context: context, status: status)
            }
        }
        pages.post("/logout") { request, context in
            if let secret = request.cookies[WebSessionMiddleware.sessionCookie]?.value {
                // "Sign out everywhere" ends the account's sessions in every browser, this one included.
                if try await request.decode(as: SignOutForm.self, context: context).everywhere == "1" {
                    try await sessions.signOutEverywhere(sessionSecret: secret)
                } else {
                    try await sessions.signOut(sessionSecret: secret)
                }
            }
            var response = redirect("/login")
            response.setCookie(
                Cookie(
                    name: WebSessionMiddleware.sessionCookie, value: "", maxAge: 0, path: "/", secure: request.isSecure,
                    httpOnly: true, sameSite: .lax))
            return response
        }
        pages.get("/") { request, context in
            _ = try Self.signedIn(request, context)
            let visible = try await directory.visibleRepositories(actor: context.actor)
            var workspaces: [[String: Any]] = []
            for (slug, repositories) in Dictionary(grouping: visible, by: \.workspaceSlug).sorted(by: { $0.key < $1.key }) {
                let isAdmin = try await directory.administers(context.actor, workspace: slug)
                workspaces.append([
                    "slug": slug, "isAdmin": isAdmin,
                    "repositories": repositories.map { ["fullName": $0.fullName, "isPrivate": $0.isPrivate] },
                ])
            }
            return templates.page("dashboard", title: "Repositories", ["workspaces": workspaces], context: context)
        }
    }

    /// Only paths on this site: no scheme, no `//host`, no backslashes.
    static func safeNext(_ next: String?) -> String {
        // Browsers drop tabs and newlines from URLs, so `/\t/evil.example/` would become `//evil.example/`: a path with any
        // control character or space is refused outright, as is anything but a plain path on this site.
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\"), !next.contains("://"),
            !next.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0.properties.isWhitespace })
        else { return "/" }
        return next
    }
}
