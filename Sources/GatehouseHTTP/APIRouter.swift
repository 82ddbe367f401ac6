import Foundation
import Hummingbird
import Synchronization

/// Registers routes on the Hummingbird router and remembers them, so that a test can hold the
/// OpenAPI document to every route that exists. Reads go through the response cache unless told otherwise.
final class APIRouter {
    typealias Handler = @Sendable (Request, APIContext) async throws -> Response
    let router: RouterGroup<APIContext>
    let cache: ResponseCache?
    let table: RouteTable

    init(_ router: RouterGroup<APIContext>, cache: ResponseCache?, table: RouteTable) {
        self.router = router
        self.cache = cache
        self.table = table
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
        table.add(method: method.rawValue, path: path)
        router.on(RouterPath(path), method: method, use: handler)
    }
}

/// The API's routes as `METHOD /path/{parameter}`: for the OpenAPI test, and for answering a known path
/// asked with the wrong method with 405 and `Allow` rather than 404.
final class RouteTable: Sendable {
    private let entries = Mutex<[(method: String, path: String)]>([])

    var routes: [(method: String, path: String)] { entries.withLock { $0 } }

    func add(method: String, path: String) {
        entries.withLock { $0.append((method, path)) }
    }

    /// The methods registered for patterns that `path` (a concrete request path) matches, with HEAD after GET
    /// (served for every GET route).
    func methods(allowedOn path: String) -> [String] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        let methods = routes.filter { route in
            let pattern = route.path.split(separator: "/", omittingEmptySubsequences: false)
            return pattern.count == segments.count
                && zip(pattern, segments).allSatisfy { expected, actual in
                    expected.hasPrefix("{") && expected.hasSuffix("}") ? !actual.isEmpty : expected == actual
                }
        }.map(\.method)
        return methods.flatMap { $0 == "GET" ? ["GET", "HEAD"] : [$0] }
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
