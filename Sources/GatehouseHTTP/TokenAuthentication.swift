import Foundation
import GatehouseCore
import Hummingbird

/// Resolves `Authorization` (HTTP Basic `USERNAME:TOKEN`, or `Bearer TOKEN`) to an actor. A request without
/// the header is anonymous; one with a bad credential is refused outright rather than treated as anonymous.
struct TokenAuthentication: RouterMiddleware {
    typealias Context = APIContext
    let tokens: TokenService

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else { return try await next(request, context) }
        let (username, secret) = try Self.credential(header)
        var context = context
        if secret.hasPrefix(RegistrationToken.secretPrefix) {
            // A registration token does one thing: register a key. Every other route refuses it outright, reads too.
            guard context.endpointPath == Self.registerRoute else {
                var error = APIError.unauthorized()
                error.message = "A registration token can only register a key."
                error.detail = "Send it to POST \(Self.registerRoute); use an API token for everything else."
                throw error
            }
            context.registrationSecret = secret
            return try await next(request, context)
        }
        guard let actor = try await tokens.authenticate(secret: secret, username: username) else {
            var error = APIError.unauthorized()
            error.message = "Invalid credentials."
            error.detail =
                "The API token is unknown, revoked or expired, or belongs to another user. Create one with `gatehouse token create USERNAME NAME --scope SCOPE`."
            throw error
        }
        context.actor = actor
        return try await next(request, context)
    }

    static let registerRoute = "/2.0/workspaces/{workspace}/deploy-keys/register"

    /// The user name (Basic only) and the token secret.
    static func credential(_ header: String) throws -> (String?, String) {
        let parts = header.split(separator: " ", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw malformed }
        switch parts[0].lowercased() {
        case "bearer":
            return (nil, parts[1].trimmingCharacters(in: .whitespaces))
        case "basic":
            guard let data = Data(base64Encoded: parts[1].trimmingCharacters(in: .whitespaces)),
                let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":")
            else { throw malformed }
            return (String(text[..<colon]), String(text[text.index(after: colon)...]))
        default:
            throw malformed
        }
    }

    private static var malformed: APIError {
        var error = APIError.unauthorized()
        error.message = "Unsupported Authorization header."
        error.detail = "Use HTTP Basic with USERNAME:API-TOKEN (curl -u user:token) or Authorization: Bearer API-TOKEN."
        return error
    }
}
