import GatehouseCore
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore

/// Per-request state: who is calling (set by `TokenAuthentication`) and from where.
public struct APIContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var actor: Actor = .anonymous {
        didSet { requestLog.withLockedValue { $0 = actor.auditName } }
    }
    public let sourceIP: String?
    /// Who the request turned out to be, for the request log written outside the authentication middleware
    /// (contexts are values; this box is shared by every copy of one request's context).
    let requestLog = NIOLockedValueBox("anonymous")
    /// Web pages: the browser's CSRF token (double-submit cookie) and the fields of a posted form.
    var csrfToken = ""
    var form: [String: String] = [:]

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        sourceIP = source.channel.remoteAddress?.ipAddress
    }

    /// Hummingbird's own ceiling; our handlers read bodies with the server's `maximumBodySize`.
    public var maxUploadSize: Int { APIServer.largestMaximumBodySize }
}
