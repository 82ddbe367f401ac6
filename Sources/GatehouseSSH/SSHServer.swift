import GatehouseCore
import GatehouseGit
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSH
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// The built-in SSH server (swift-nio-ssh): public-key authentication, Git commands, nothing else.
public final class SSHServer: Service, Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// The only user name clients connect as, e.g. `git@example.com`.
        public var user: String

        public init(host: String = "127.0.0.1", port: Int = 2222, user: String = "git") {
            self.host = host
            self.port = port
            self.user = user
        }
    }

    let configuration: Configuration
    let hostKeys: HostKeys
    let access: AccessService
    let sessions: SessionServer
    let logger: Logger
    private let listener = NIOLockedValueBox<(any Channel)?>(nil)

    public init(configuration: Configuration, hostKeys: HostKeys, access: AccessService, git: GitProcess, logger: Logger) {
        self.configuration = configuration
        self.hostKeys = hostKeys
        self.access = access
        self.logger = logger
        self.sessions = SessionServer(access: access, git: git, sshUser: configuration.user, logger: logger)
    }

    /// Starts listening and returns the bound port (useful with port 0).
    @discardableResult
    public func bind() async throws -> Int {
        if let port = listener.withLockedValue({ $0?.localAddress?.port }) { return port }
        // Git may exit while a client is still sending; the write to its closed stdin must fail with EPIPE,
        // not kill the server.
        signal(SIGPIPE, SIG_IGN)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                SSHMetrics.connectionAccepted()
                return channel.eventLoop.makeCompletedFuture { try self.initializeConnection(channel) }
            }
            .bind(host: configuration.host, port: configuration.port).get()
        listener.withLockedValue { $0 = channel }
        let port = channel.localAddress?.port ?? configuration.port
        logger.info("SSH listening", metadata: ["address": "\(configuration.host):\(port)"])
        return port
    }

    /// Serves until graceful shutdown.
    public func run() async throws {
        try await bind()
        guard let channel = listener.withLockedValue({ $0 }) else { return }
        // Cancellation too: when another service of the group fails (say the HTTP port is taken), the group
        // cancels this one, and the process must exit rather than keep serving half of itself.
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onCancelOrGracefulShutdown: {
            channel.close(promise: nil)
        }
    }

    /// Stops listening; open connections finish on their own.
    public func stop() async {
        try? await listener.withLockedValue({ $0 })?.close()
    }

    private func initializeConnection(_ channel: any Channel) throws {
        let identity = ConnectionIdentity(sourceIP: channel.remoteAddress?.ipAddress)
        let authenticator = PublicKeyAuthenticator(access: access, identity: identity, logger: logger)
        let handler = NIOSSHHandler(
            role: .server(.init(hostKeys: hostKeys.nioKeys, userAuthDelegate: authenticator)),
            allocator: channel.allocator,
            inboundChildChannelInitializer: { [sessions] child, type in
                guard case .session = type else {
                    // Port forwarding and every other channel type are refused.
                    return child.eventLoop.makeFailedFuture(SSHServerError.channelTypeRefused)
                }
                return child.eventLoop.makeCompletedFuture {
                    let state = SessionState(eventLoop: child.eventLoop)
                    try child.pipeline.syncOperations.addHandler(SessionRequestHandler(state: state))
                    let asyncChannel = try NIOAsyncChannel<SSHChannelData, SSHChannelData>(wrappingChannelSynchronously: child)
                    Task { await sessions.serve(asyncChannel, state: state, identity: identity) }
                }
            })
        try channel.pipeline.syncOperations.addHandlers([HandshakeQuickAck(), handler, ConnectionErrorHandler(logger: logger)])
    }
}

enum SSHServerError: Error {
    case channelTypeRefused
}

/// Closes a connection whose SSH stream failed (bad packets, failed key exchange).
final class ConnectionErrorHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = Any
    let logger: Logger

    init(logger: Logger) { self.logger = logger }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("SSH connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}
