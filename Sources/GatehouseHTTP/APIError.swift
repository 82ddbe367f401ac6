import GatehouseCore
import Hummingbird

/// A refusal as the API sends it, in Bitbucket Cloud's shape: `{"type": "error", "error": {"message", "detail"}}`.
struct APIError: Error {
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
    /// The status and words for any error a handler throws; unexpected errors become a 500 without internals.
    init(_ error: any Error) {
        switch error {
        case let error as APIError:
            self = error
        case let error as GatehouseError:
            self.init(gatehouse: error)
        case let denial as AccessDenial:
            self.init(denial: denial)
        case let error as any HTTPResponseError:
            self.init(error.status, Self.reason(for: error.status))
        default:
            self.init(.internalServerError, "Something went wrong on the server.", detail: "It has been logged; try again, and tell the operator if it persists.")
        }
    }

    private init(gatehouse error: GatehouseError) {
        switch error {
        case .accessDenied(let denial): self.init(denial: denial)
        case .notFound: self.init(.notFound, explaining: error.description)
        default: self.init(.badRequest, explaining: error.description)
        }
    }

    private init(denial: AccessDenial) {
        switch denial {
        case .notFound, .accountNotFound: self.init(.notFound, explaining: denial.description)
        case .signInRequired: self = .unauthorized()
        case .readOnlyDeployKey, .readOnlyAccount, .notAdministrator, .missingScope, .notWorkspaceAdministrator:
            self.init(.forbidden, explaining: denial.description)
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

/// Turns every error into a response: Bitbucket's error body for the API, an HTML page for the browser pages
/// (where every refusal about access is "not found", so that no page reveals what exists).
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = APIContext
    let templates: Templates
    let routes: RouteTable

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let path = request.uri.path
            let isAPI = path.hasPrefix("/2.0/") || path == "/2.0" || path == "/metrics"
            if !isAPI, let response = page(for: error, context: context) { return response }
            if isAPI, let response = methodNotAllowed(error, path: path, context: context) { return response }
            let apiError = APIError(error)
            if apiError.status == .internalServerError {
                context.logger.error("\(request.method) \(path) failed: \(String(reflecting: error))")
            }
            return isAPI ? apiError.response() : templates.error(apiError.status, message: apiError.message, context: context)
        }
    }

    /// A path the API has, asked with a method it does not take: 405 with the methods it does take.
    private func methodNotAllowed(_ error: any Error, path: String, context: APIContext) -> Response? {
        // The router names unmatched requests "NotFound"; a handler's own 404 (a missing key) is left alone.
        guard context.endpointPath == nil || context.endpointPath == "NotFound",
              let error = error as? any HTTPResponseError, error.status == .notFound else { return nil }
        let allowed = routes.methods(allowedOn: path)
        guard !allowed.isEmpty else { return nil }
        var refusal = APIError(.methodNotAllowed, "This path takes \(allowed.joined(separator: ", ")) only.",
                               detail: "See /2.0/openapi.json for the operations on each path.")
        refusal.headers[.allow] = allowed.joined(separator: ", ")
        return refusal.response()
    }

    private func page(for error: any Error, context: APIContext) -> Response? {
        let notFound = "There is nothing here, or you do not have access to it. Check the address, or sign in with another account."
        switch error {
        case WebError.redirect(let location): return redirect(location)
        case WebError.notFound: return templates.error(.notFound, message: notFound, context: context)
        case GatehouseError.accessDenied(let denial), let denial as AccessDenial:
            if denial == .signInRequired { return redirect("/login") }
            return templates.error(.notFound, message: notFound, context: context)
        case GatehouseError.notFound: return templates.error(.notFound, message: notFound, context: context)
        case let error as any HTTPResponseError where error.status == .notFound:
            return templates.error(.notFound, message: notFound, context: context)
        default: return nil
        }
    }
}
