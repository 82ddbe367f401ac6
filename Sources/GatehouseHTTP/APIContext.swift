import GatehouseCore
import Hummingbird
import NIOCore

/// Per-request state: who is calling (set by `TokenAuthentication`) and from where.
public struct APIContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var actor: Actor = .anonymous
    public let sourceIP: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        sourceIP = source.channel.remoteAddress?.ipAddress
    }

    /// Request bodies are small JSON documents; anything larger is refused with 413 before it is parsed.
    public var maxUploadSize: Int { APIServer.maximumBodySize }
}
