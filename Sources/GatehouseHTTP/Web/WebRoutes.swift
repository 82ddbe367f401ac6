import Foundation
import GatehouseCore
import Hummingbird
import NIOCore

/// The browser pages, server-rendered next to the API: sign-in, dashboard, repository pages, repository and
/// account key settings, workspace settings. Every rule comes from the same services as the API.
struct WebRoutes {
    let services: APIServer.Services
    let sessions: SessionService
    let templates: Templates
    let ssh: APIServer.SSHEndpoint

    func add(to router: Router<RequestOrigin>) {
        let files = router.group(context: WebContext.self).add(middleware: WebErrorMiddleware(templates: templates))
        files.get("/static/{name}") { _, context in
            guard let response = StaticFiles.response(context.parameters.get("name") ?? "") else { throw WebError.notFound }
            return response
        }
        let pages = router.group(context: WebContext.self).add(middleware: WebErrorMiddleware(templates: templates))
            .add(middleware: WebSessionMiddleware(sessions: sessions, templates: templates))
        addSignIn(to: pages)
        addAccountKeys(to: pages)
        addRepositoryPages(to: pages)
        addDeployKeys(to: pages)
        addWorkspaceSettings(to: pages)
        addWorkspaceKeys(to: pages)
        addFleetPage(to: pages)
    }

    /// What the add-key dialog shows again after `error`: what was typed, except a private key, which is never
    /// sent back (the page would carry it into the browser's history, caches and screenshots; the fix is to
    /// paste a different text, the .pub file, anyway).
    static func retyped(key text: String, after error: GatehouseError) -> String {
        if case .invalidKey(.privateKey) = error { return "" }
        return text
    }

    /// The signed-in account, or a redirect to the sign-in page that comes back here.
    static func signedIn(_ request: Request, _ context: WebContext) throws -> User {
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

/// The fields of the add-key dialogs (account and deployment keys).
struct KeyForm: Decodable {
    var label: String?
    var key: String?
    /// Deployment keys only: a certificate authority's principals, separated by commas or spaces.
    var principals: String?
    /// Deployment keys only: `read` (the default) or `write`, with ref rules one per line.
    var permission: String?
    var rules: String?
    /// Workspace deployment keys only: `all`, or slugs and globs separated by commas.
    var repositories: String?
    /// When the key stops working: a day (the date field), empty for never.
    var expires: String?

    /// The expiry asked for, nil for never.
    func expiresAt() throws -> Date? {
        guard let expires, !expires.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        return try ExpiryDate.parse(expires)
    }
}

/// The field of the in-place label edit.
struct LabelForm: Decodable {
    var label: String?
}

/// The sign-in form.
struct SignInForm: Decodable {
    var username: String?
    var password: String?
    var next: String?
}

/// `everywhere=1` signs the account out of every browser.
struct SignOutForm: Decodable {
    var everywhere: String?
}

/// Outcomes of page handlers that are not pages.
enum WebError: Error {
    case redirect(String)
    case notFound
}

/// Every error of a page as a page: refusals about access are "not found" (so that no page reveals what
/// exists), signing in is a redirect, bad input is shown, server faults are logged and named only in general.
struct WebErrorMiddleware: RouterMiddleware {
    typealias Context = WebContext
    let templates: Templates

    func handle(_ request: Request, context: WebContext, next: (Request, WebContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch WebError.redirect(let location) {
            return redirect(location)
        } catch is DecodingError {
            return templates.error(.badRequest, message: "The form could not be read. Reload the page and try again.", context: context)
        } catch WebError.notFound {
            return templates.error(.notFound, message: Templates.notFound, context: context)
        } catch is NIOTooManyBytesError {
            return templates.error(
                .contentTooLarge, message: "The form is larger than \(context.maxUploadSize / 1024) KiB (the setting http.max-body-kib).", context: context)
        } catch let error as any HTTPResponseError {
            let message = error.status == .notFound ? Templates.notFound : error.status.reasonPhrase
            return templates.error(error.status, message: message, context: context)
        } catch {
            let refusal = GatehouseError(error)
            switch refusal.category {
            case .notFound, .denied: return templates.error(.notFound, message: Templates.notFound, context: context)
            case .unauthenticated: return redirect("/login")
            case .invalidInput, .conflict: return templates.error(.badRequest, message: refusal.description, context: context)
            case .unavailable, .storageFull, .internal:
                context.logger.error("\(request.method) \(request.uri.path) failed: \(refusal)")
                let status: HTTPResponse.Status =
                    switch refusal.category {
                    case .unavailable: .serviceUnavailable
                    case .storageFull: .insufficientStorage
                    default: .internalServerError
                    }
                return templates.error(status, message: refusal.callerMessage, context: context)
            }
        }
    }
}
