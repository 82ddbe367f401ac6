import Crypto
import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird
import HummingbirdBcrypt

/// For every page: who is signed in (the session cookie), the CSRF token (derived from the session when signed
/// in; before that, a double-submit cookie set on first visit), and for POSTs the form fields, refused with 403
/// unless they carry that token.
struct WebSessionMiddleware: RouterMiddleware {
    typealias Context = WebContext
    static let sessionCookie = "gatehouse_session"
    static let csrfCookie = "gatehouse_csrf"
    let sessions: SessionService
    let templates: Templates

    func handle(_ request: Request, context: WebContext, next: (Request, WebContext) async throws -> Response) async throws -> Response {
        var context = context
        var request = request
        var expected: String?
        if let secret = request.cookies[Self.sessionCookie]?.value, let user = try await sessions.user(sessionSecret: secret) {
            context.actor = .user(user)
            // Signed in, the token is derived from the session's secret, which another site cannot learn or set.
            expected = Self.sessionToken(secret)
        }
        let existing = request.cookies[Self.csrfCookie]?.value
        expected = expected ?? existing
        context.csrfToken = expected ?? TokenSecret.generate(prefix: "")
        if request.method == .post {
            // Collected once here, so that the handler decodes its typed form from the same bytes.
            _ = try await request.collectBody(upTo: context.maxUploadSize)
            let sent = (try? await request.decode(as: CSRFField.self, context: context))?.csrf
            guard let expected, let sent, Self.constantTimeEqual(sent, expected) else {
                var response = templates.error(
                    .forbidden, message: "This form has expired or came from another site. Reload the page and try again.", context: context)
                if existing == nil { response.setCookie(csrfCookie(context.csrfToken, request: request)) }
                return response
            }
        }
        var response = try await next(request, context)
        if existing == nil { response.setCookie(csrfCookie(context.csrfToken, request: request)) }
        return response
    }

    func csrfCookie(_ token: String, request: Request) -> Cookie {
        Cookie(name: Self.csrfCookie, value: token, path: "/", secure: request.isSecure, httpOnly: true, sameSite: .lax)
    }

    /// The CSRF token of a signed-in browser: an HMAC of its session secret.
    static func sessionToken(_ secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("gatehouse csrf".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return TokenSecret.base64URL(Data(mac))
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// The field every posted form carries.
struct CSRFField: Decodable {
    var csrf: String?
}

extension Request {
    /// Served over TLS, directly or by a proxy that says so; cookies are then marked Secure.
    var isSecure: Bool {
        head.scheme == "https" || headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
    }
}

/// Passwords with bcrypt (HummingbirdBcrypt).
public struct BcryptHasher: PasswordHasher {
    public init() {}
    public func hash(_ password: String) -> String { Bcrypt.hash(password, cost: 12) }
    public func verify(_ password: String, hash: String) -> Bool { Bcrypt.verify(password, hash: hash) }
}
