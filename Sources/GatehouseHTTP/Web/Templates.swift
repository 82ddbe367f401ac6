import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird
import Mustache

/// The HTML templates (`Assets/templates/*.mustache`), loaded once, and the response helpers pages use.
struct Templates: Sendable {
    let library: MustacheLibrary

    static func load() throws -> Templates {
        let directory = Bundle.module.bundleURL.appendingPathComponent("Assets/templates")
        var library = MustacheLibrary()
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) where file.hasSuffix(".mustache") {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            try library.register(text, named: String(file.dropLast(".mustache".count)))
        }
        return Templates(library: library)
    }

    /// Renders `name` with `values` plus what every page needs: who is signed in and the CSRF token.
    func page(_ name: String, title: String, _ values: [String: Any], context: WebContext, status: HTTPResponse.Status = .ok) -> Response {
        page(name, title: title, values, user: context.actor.user, csrf: context.csrfToken, status: status)
    }

    private func page(_ name: String, title: String, _ values: [String: Any], user: User?, csrf: String, status: HTTPResponse.Status) -> Response {
        var values = values
        values["title"] = title
        values["csrf"] = csrf
        if let user {
            values["signedIn"] = true
            values["username"] = user.username
        }
        let html = library.render(values, withTemplate: name) ?? "Template \(name) is missing."
        return Response(status: status, headers: Self.headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// An error page that names nothing the caller may not see.
    func error(_ status: HTTPResponse.Status, message: String, context: WebContext) -> Response {
        error(status, message: message, user: context.actor.user, csrf: context.csrfToken)
    }

    /// What every page says about something the caller may not see, or that does not exist: the same words.
    static let notFound = "There is nothing here, or you do not have access to it. Check the address, or sign in with another account."

    func error(_ status: HTTPResponse.Status, message: String, user: User?, csrf: String) -> Response {
        let heading =
            switch status {
            case .notFound: "Page not found"
            case .forbidden: "Not allowed"
            case .tooManyRequests: "Too many attempts"
            case .internalServerError: "Something went wrong"
            default: status.reasonPhrase
            }
        return page("error", title: heading, ["heading": heading, "message": message], user: user, csrf: csrf, status: status)
    }

    /// No inline scripts or styles, nothing from elsewhere, not framed.
    static let headers: HTTPFields = [
        .contentType: "text/html; charset=utf-8",
        .contentSecurityPolicy: "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("Referrer-Policy")!: "same-origin",
        .cacheControl: "no-store",
    ]
}

/// Files under `Assets/static`, served at `/static/NAME`.
enum StaticFiles {
    static func response(_ name: String) -> Response? {
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }), !name.hasPrefix("."),
            let data = try? Data(contentsOf: Bundle.module.bundleURL.appendingPathComponent("Assets/static/\(name)"))
        else { return nil }
        let type = name.hasSuffix(".css") ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8"
        return Response(
            status: .ok, headers: [.contentType: type, .cacheControl: "max-age=300"],
            body: .init(byteBuffer: ByteBuffer(data: data)))
    }
}

/// Redirects after a POST (303, so that reloading does not post again) or to the sign-in page.
func redirect(_ location: String) -> Response {
    Response(status: .seeOther, headers: [.location: location])
}
