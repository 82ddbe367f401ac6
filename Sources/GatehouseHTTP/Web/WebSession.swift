import Crypto
import HummingbirdBcrypt
import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

/// For every page: who is signed in (the session cookie), the CSRF token (derived from the session when signed
/// in; before that, a double-submit cookie set on first visit), and for POSTs the form fields, refused with 403
/// unless they carry that token.
struct WebSessionMiddleware: RouterMiddleware {
    typealias Context = APIContext
    static let sessionCookie = "gatehouse_session"
    static let csrfCookie = "gatehouse_csrf"
    let sessions: SessionService
    let templates: Templates
    let maximumBodySize: Int

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        var context = context
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
            context.form = try await Self.form(request, limit: maximumBodySize)
            guard let expected, let sent = context.form["csrf"], Self.constantTimeEqual(sent, expected) else {
                var response = templates.error(.forbidden, message: "This form has expired or came from another site. Reload the page and try again.", context: context)
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

    /// `application/x-www-form-urlencoded` fields, at most `limit` bytes.
    static func form(_ request: Request, limit: Int) async throws -> [String: String] {
        let buffer = try await JSON.body(of: request, limit: limit)
        let text = String(decoding: buffer.readableBytesView, as: UTF8.self)
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
                $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            if let name = parts.first, !name.isEmpty { fields[name] = parts.count > 1 ? parts[1] : "" }
        }
        return fields
    }

    /// The CSRF token of a signed-in browser: an HMAC of its session secret.
    static func sessionToken(_ secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("gatehouse csrf".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return TokenSecret.base64URL(Data(mac))
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
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
