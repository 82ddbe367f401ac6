import GatehouseCore
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore

/// What every request carries before it reaches the API or a page: where it came from, the body limit, and a
/// box for the request log (contexts are values; the box is shared by every copy of one request's context).
public struct RequestOrigin: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's address; the proxy's word for it with `http.trust-forwarded-headers`.
    public internal(set) var sourceIP: String?
    let requestLog = NIOLockedValueBox("anonymous")
    /// `http.max-body-kib`, set by `BodyLimitMiddleware`.
    var bodyLimit = APIServer.defaultMaximumBodySize

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        sourceIP = source.channel.remoteAddress?.ipAddress
    }

    public var maxUploadSize: Int { bodyLimit }
}

/// An API request: the caller (set by `TokenAuthentication`) and JSON bodies read by `APIRequestDecoder`.
public struct APIContext: ChildRequestContext, CallerContext {
    public var coreContext: CoreRequestContextStorage
    let origin: RequestOrigin
    /// A registration token's secret, on the one route that takes it.
    var registrationSecret: String?
    public var actor: Actor = .anonymous {
        didSet { noteCaller() }
    }

    public init(context: RequestOrigin) {
        coreContext = context.coreContext
        origin = context
    }

    public var requestDecoder: APIRequestDecoder { APIRequestDecoder() }
}

/// A browser page: the signed-in account and the CSRF token (set by `WebSessionMiddleware`), and forms read by
/// Hummingbird's URL-encoded form decoder.
public struct WebContext: ChildRequestContext, CallerContext {
    public var coreContext: CoreRequestContextStorage
    let origin: RequestOrigin
    /// The signed-in account with all of its own permissions, or anonymous.
    public var actor: Actor = .anonymous {
        didSet { noteCaller() }
    }
    /// The token every form must carry back.
    var csrfToken = ""

    public init(context: RequestOrigin) {
        coreContext = context.coreContext
        origin = context
    }

    public var requestDecoder: URLEncodedFormDecoder { URLEncodedFormDecoder() }
}

/// What the API's and the pages' contexts take from the request's origin.
protocol CallerContext: RequestContext {
    var origin: RequestOrigin { get }
    var actor: Actor { get }
}

extension CallerContext {
    public var sourceIP: String? { origin.sourceIP }
    public var maxUploadSize: Int { origin.bodyLimit }

    /// Tells the request log who the caller turned out to be.
    func noteCaller() {
        origin.requestLog.withLockedValue { $0 = actor.auditName }
    }
}

/// Sets the body limit (`http.max-body-kib`) that the API's and the pages' decoders enforce.
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = RequestOrigin
    let limit: Int

    func handle(_ request: Request, context: RequestOrigin, next: (Request, RequestOrigin) async throws -> Response) async throws -> Response {
        var context = context
        context.bodyLimit = limit
        return try await next(request, context)
    }
}
