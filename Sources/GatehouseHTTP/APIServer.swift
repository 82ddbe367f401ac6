import GatehouseCore
import Hummingbird
import Logging
import NIOCore
import NIOFoundationCompat
import ServiceLifecycle

/// The REST API, shaped like Bitbucket Cloud 2.0, served by Hummingbird next to the SSH server.
public struct APIServer: Sendable {
    /// Request bodies are small JSON documents or forms (`http.max-body-kib`); larger ones get 413 before parsing.
    public static let defaultMaximumBodySize = 64 * 1024
    public static let largestMaximumBodySize = 1024 * 1024

    /// The services every door shares: the API applies no rule of its own.
    public struct Services: Sendable {
        /// The data version reads are cached at (`Store.dataVersion()`).
        public var dataVersion: @Sendable () -> UInt64?
        public var directory: DirectoryService
        public var keys: KeyService
        public var tokens: TokenService
        public var sessions: SessionService
        public var registrations: RegistrationService

        public init(
            dataVersion: @escaping @Sendable () -> UInt64?, directory: DirectoryService, keys: KeyService, tokens: TokenService,
            sessions: SessionService, registrations: RegistrationService
        ) {
            self.registrations = registrations
            self.dataVersion = dataVersion
            self.directory = directory
            self.keys = keys
            self.tokens = tokens
            self.sessions = sessions
        }
    }

    /// What clients need to connect over SSH, for `/2.0/hostkeys`.
    public struct SSHEndpoint: Sendable {
        public var port: Int
        public var user: String
        /// `TYPE BASE64` of each host key, with its SHA256 fingerprint.
        public var hostKeys: [(publicKey: String, fingerprint: String)]

        public init(port: Int, user: String, hostKeys: [(publicKey: String, fingerprint: String)]) {
            self.port = port
            self.user = user
            self.hostKeys = hostKeys
        }
    }

    let services: Services
    let ssh: SSHEndpoint
    let logger: Logger
    /// `/metrics` on the API's address; nil serves none there.
    let metrics: MetricsEndpoint?
    let templates: Templates
    let maximumBodySize: Int
    /// `http.idle-timeout-seconds`: a connection that sends nothing for this long while a request is being read,
    /// or between requests, is closed, so that slow or silent clients cannot hold connections.
    let idleTimeout: Duration
    public static let defaultIdleTimeout: Duration = .seconds(30)
    /// `http.trust-forwarded-headers`: see `ForwardedHeadersMiddleware`.
    let trustForwardedHeaders: Bool

    public init(
        services: Services, ssh: SSHEndpoint, logger: Logger, metrics: MetricsEndpoint? = nil,
        maximumBodySize: Int = APIServer.defaultMaximumBodySize, idleTimeout: Duration = APIServer.defaultIdleTimeout,
        trustForwardedHeaders: Bool = false
    ) throws {
        self.trustForwardedHeaders = trustForwardedHeaders
        self.idleTimeout = idleTimeout
        self.services = services
        self.maximumBodySize = min(maximumBodySize, Self.largestMaximumBodySize)
        self.ssh = ssh
        self.logger = logger
        self.metrics = metrics
        self.templates = try Templates.load()
    }

    /// The HTTP server as a Service for the process's ServiceGroup; `onListening` receives the bound port.
    public func application(host: String, port: Int, onListening: @escaping @Sendable (Int) async -> Void) -> some Service {
        Application(
            router: router(), server: .http1(configuration: .init(idleTimeout: TimeAmount(idleTimeout))),
            configuration: .init(address: .hostname(host, port: port), serverName: "Gatehouse"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) },
            logger: logger)
    }

    func router() -> Router<RequestOrigin> {
        routes().router
    }

    /// Two parts on one router, each with its own context: the API (token, caller, JSON) and the pages
    /// (session, CSRF token, forms). What no route matches is answered in the shape of the part it was meant for.
    func routes() -> (router: Router<RequestOrigin>, table: RouteTable) {
        // HEAD on every GET route: what GET answers, without the body (monitors and link checkers send it).
        let router = Router(context: RequestOrigin.self, options: .autoGenerateHeadEndpoints)
        let table = RouteTable()
        if trustForwardedHeaders { router.add(middleware: ForwardedHeadersMiddleware()) }
        router.add(middleware: RequestLogMiddleware())
        router.add(middleware: BodyLimitMiddleware(limit: maximumBodySize))
        router.add(middleware: UnmatchedRouteMiddleware(templates: templates, routes: table))
        let api = router.group(context: APIContext.self).add(middleware: APIErrorMiddleware())
            .add(middleware: TokenAuthentication(tokens: services.tokens))
        let routes = APIRouter(api, cache: ResponseCache(dataVersion: services.dataVersion), table: table)
        addAccountRoutes(to: routes)
        addRepositoryRoutes(to: routes)
        addDeployKeyRoutes(to: routes)
        addWorkspaceDeployKeyRoutes(to: routes)
        addSSHKeyRoutes(to: routes)
        routes.get("/2.0/openapi.json", cached: false) { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(data: OpenAPIDocument.data)))
        }
        if let metrics {
            // For the operator's Prometheus, not for API clients: outside the API group, so that a `metrics.token`
            // sent as a Bearer token is not taken for an API token. Listed with the routes all the same.
            table.add(method: "GET", path: "/metrics")
            router.get("/metrics") { request, _ in metrics.response(to: request) }
        }
        WebRoutes(services: services, sessions: services.sessions, templates: templates, ssh: ssh).add(to: router)
        return (router, table)
    }

    /// Every route the API serves, as `METHOD /path/{parameter}`.
    public var registeredRoutes: [String] {
        routes().table.routes.map { "\($0.method) \($0.path)" }
    }
}

extension Request {
    /// `scheme://host` as the client addressed us, for links in responses.
    var baseURL: String {
        let host = head.authority ?? "localhost"
        return "\(head.scheme ?? "http")://\(host)"
    }

    /// This request's URL without its query, for pagination links.
    var urlWithoutQuery: String { baseURL + uri.path }
}

extension APIContext {
    /// The actor, who must have signed in: anonymous callers get 401 whatever they asked for.
    func signedIn() throws -> Actor {
        if actor == .anonymous { throw APIError.unauthorized() }
        return actor
    }
}
