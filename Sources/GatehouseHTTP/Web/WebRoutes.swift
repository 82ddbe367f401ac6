import Foundation
import GatehouseCore
import Hummingbird

/// The browser pages, server-rendered next to the API: sign-in, dashboard, repository pages, repository and
/// account key settings, workspace settings. Every rule comes from the same services as the API.
struct WebRoutes {
    let services: APIServer.Services
    let sessions: SessionService
    let templates: Templates
    let ssh: APIServer.SSHEndpoint
    let maximumBodySize: Int

    func add(to router: Router<APIContext>) {
        router.get("/static/{name}") { _, context in
            guard let response = StaticFiles.response(context.parameters.get("name") ?? "") else { throw WebError.notFound }
            return response
        }
        let pages = router.group().add(middleware: WebSessionMiddleware(sessions: sessions, templates: templates, maximumBodySize: maximumBodySize))
        addSignIn(to: pages)
        addAccountKeys(to: pages)
        addRepositoryPages(to: pages)
        addDeployKeys(to: pages)
        addWorkspaceSettings(to: pages)
    }

    /// What the add-key dialog shows again after `error`: what was typed, except a private key, which is never
    /// sent back (the page would carry it into the browser's history, caches and screenshots; the fix is to
    /// paste a different text, the .pub file, anyway).
    static func retyped(key text: String, after error: GatehouseError) -> String {
        if case .invalidKey(.privateKey) = error { return "" }
        return text
    }

    /// The signed-in account, or a redirect to the sign-in page that comes back here.
    static func signedIn(_ request: Request, _ context: APIContext) throws -> User {
        guard let user = context.actor.user else {
            let next = request.uri.path.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "/-_.~"))) ?? "/"
            throw WebError.redirect("/login?next=\(next)")
        }
        return user
    }

    static func date(_ date: Date?) -> String {
        guard let date else { return "never" }
        return date.formatted(.iso8601.year().month().day().dateSeparator(.dash)) + " "
            + date.formatted(.iso8601.time(includingFractionalSeconds: false).timeSeparator(.colon)).prefix(5) + " UTC"
    }
}

/// Outcomes of page handlers that are not pages.
enum WebError: Error {
    case redirect(String)
    case notFound
}
