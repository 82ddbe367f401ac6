import Foundation
import Hummingbird

/// Registers routes on the Hummingbird router and remembers them, so that a test can hold the
/// OpenAPI document to every route that exists. Reads go through the response cache unless told otherwise.
final class APIRouter {
    typealias Handler = @Sendable (Request, APIContext) async throws -> Response
    let router: Router<APIContext>
    let cache: ResponseCache?
    private(set) var routes: [(method: String, path: String)] = []

    init(_ router: Router<APIContext>, cache: ResponseCache?) {
        self.router = router
        self.cache = cache
    }

    /// A read; `cached: false` for answers that do not come from the stored data alone (e.g. metrics).
    func get(_ path: String, cached: Bool = true, _ handler: @escaping Handler) {
        guard cached, let cache else { return on(.get, path, handler) }
        on(.get, path) { request, context in try await cache.respond(to: request, context: context, with: handler) }
    }

    func post(_ path: String, _ handler: @escaping Handler) { on(.post, path, handler) }
    func put(_ path: String, _ handler: @escaping Handler) { on(.put, path, handler) }
    func delete(_ path: String, _ handler: @escaping Handler) { on(.delete, path, handler) }

    private func on(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping Handler) {
        routes.append((method.rawValue, path))
        router.on(RouterPath(path), method: method, use: handler)
    }
}

/// The OpenAPI 3.1 document of the API, kept next to the code as `Assets/openapi.json`.
public enum OpenAPIDocument {
    public static let data: Data = {
        guard let data = try? Data(contentsOf: Bundle.module.bundleURL.appendingPathComponent("Assets/openapi.json")) else {
            fatalError("openapi.json is missing from the GatehouseHTTP resources")
        }
        return data
    }()
}
