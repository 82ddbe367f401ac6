import GatehouseCore
import Hummingbird
import NIOCore

/// A refusal as the API sends it, in Bitbucket Cloud's shape: `{"type": "error", "error": {"message", "detail"}}`.
public struct APIError: Error {
    var status: HTTPResponse.Status
    var message: String
    var detail: String?
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ message: String, detail: String? = nil) {
        self.status = status
        self.message = message
        self.detail = detail
    }

    /// The first sentence as `message` (Bitbucket's wording where it has one), the advice after it as `detail`.
    init(_ status: HTTPResponse.Status, explaining text: String) {
        // A sentence ends at ". " before a capital letter, so that "e.g. ~/.ssh" stays inside its sentence.
        var search = text.startIndex
        while let end = text.range(of: ". ", range: search..<text.endIndex) {
            if text[end.upperBound...].first?.isUppercase == true {
                self.init(status, String(text[..<end.lowerBound]) + ".", detail: String(text[end.upperBound...]))
                return
            }
            search = end.upperBound
        }
        self.init(status, text)
    }

    static func unauthorized(_ denial: AccessDenial = .signInRequired) -> APIError {
        var error = APIError(.unauthorized, explaining: denial.description)
        error.headers[.wwwAuthenticate] = #"Basic realm="Gatehouse API", Bearer realm="Gatehouse API""#
        return error
    }

    func response() -> Response {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        let body = ErrorBody(error: .init(message: message, detail: detail))
        return Response(status: status, headers: headers, body: .init(byteBuffer: JSON.encode(body)))
    }

    private struct ErrorBody: Encodable {
        var type = "error"
        var error: Detail
        struct Detail: Encodable {
            var message: String
            var detail: String?
        }
    }
}

extension APIError {
    /// The status and words for any error a handler throws, by the error's category; server faults become a 5xx
    /// that names no internals. `bodyLimit` is the limit a too-large body broke.
    init(_ error: any Error, bodyLimit: Int) {
        switch error {
        case let error as APIError:
            self = error
        case is NIOTooManyBytesError:
            self.init(
                .contentTooLarge, "The request body is larger than \(bodyLimit / 1024) KiB. Send a smaller document.",
                detail: "The server's limit is the setting http.max-body-kib.")
        case let error as any HTTPResponseError:
            self.init(error.status, Self.reason(for: error.status))
        default:
            self.init(gatehouse: GatehouseError(error))
        }
    }

    private init(gatehouse error: GatehouseError) {
        switch error.category {
        case .invalidInput, .conflict: self.init(.badRequest, explaining: error.description)
        case .notFound: self.init(.notFound, explaining: error.description)
        case .denied: self.init(.forbidden, explaining: error.description)
        case .unauthenticated:
            if case .accessDenied(let denial) = error { self = .unauthorized(denial) } else { self = .unauthorized() }
        case .unavailable: self.init(.serviceUnavailable, explaining: error.callerMessage)
        case .storageFull: self.init(.insufficientStorage, explaining: error.callerMessage)
        case .internal: self.init(.internalServerError, explaining: error.callerMessage)
        }
    }

    private static func reason(for status: HTTPResponse.Status) -> String {
        switch status {
        case .notFound: "No such resource. Check the URL against /2.0/openapi.json."
        case .contentTooLarge: "The request body is too large. Send a smaller JSON document."
        case .methodNotAllowed: "This method is not allowed here. Check /2.0/openapi.json for the methods each path takes."
        default: status.reasonPhrase
        }
    }
}

/// Every error of an API route as Bitbucket's error body; server faults are logged with their detail.
struct APIErrorMiddleware: RouterMiddleware {
    typealias Context = APIContext

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let apiError = APIError(error, bodyLimit: context.maxUploadSize)
            if apiError.status.code >= 500 { context.logger.error("\(request.method) \(request.uri.path) failed: \(GatehouseError(error))") }
            return apiError.response()
        }
    }
}

/// Requests no route matched: 404 in the API's shape under `/2.0/` (or 405 with `Allow` for a known path asked
/// with another method), the "not found" page elsewhere.
struct UnmatchedRouteMiddleware: RouterMiddleware {
    typealias Context = RequestOrigin
    let templates: Templates
    let routes: RouteTable

    func handle(_ request: Request, context: RequestOrigin, next: (Request, RequestOrigin) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let path = request.uri.path
            guard path.hasPrefix("/2.0/") || path == "/2.0" || path == "/metrics" else {
                let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
                if status.code >= 500 { context.logger.error("\(request.method) \(path) failed: \(String(reflecting: error))") }
                return templates.error(status, message: status == .notFound ? Templates.notFound : status.reasonPhrase, user: nil, csrf: "")
            }
            if let response = methodNotAllowed(error, path: path) { return response }
            return APIError(error, bodyLimit: context.maxUploadSize).response()
        }
    }

    /// A path the API has, asked with a method it does not take: 405 with the methods it does take.
    private func methodNotAllowed(_ error: any Error, path: String) -> Response? {
        guard let error = error as? any HTTPResponseError, error.status == .notFound else { return nil }
        let allowed = routes.methods(allowedOn: path)
        guard !allowed.isEmpty else { return nil }
        var refusal = APIError(
            .methodNotAllowed, "This path takes \(allowed.joined(separator: ", ")) only.",
            detail: "See /2.0/openapi.json for the operations on each path.")
        refusal.headers[.allow] = allowed.joined(separator: ", ")
        return refusal.response()
    }
}

extension HTTPResponse.Status {
    /// WebDAV's status for a server that has no room to store the request's result (RFC 4918); not in HTTPTypes.
    static let insufficientStorage = HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage")
}
