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
        public var limits: SSHLimits
        public var gitProcesses: GitProcessSlots.Limits

        public init(
            host: String = "127.0.0.1", port: Int = 2222, user: String = "git", limits: SSHLimits = SSHLimits(),
            gitProcesses: GitProcessSlots.Limits = .init()
        ) {
            self.host = host
            self.port = port
            self.user = user
            self.limits = limits
            self.gitProcesses = gitProcesses
        }
    }

    let configuration: Configuration
    let hostKeys: HostKeys
    let access: AccessService
    let sessions: SessionServer
    /// The git sessions running now, ended when their key no longer allows them.
    public let running: RunningSessions
    let unauthenticated: UnauthenticatedConnections
    let logger: Logger
    private let listener = NIOLockedValueBox<(any Channel)?>(nil)

    public init(configuration: Configuration, hostKeys: HostKeys, access: AccessService, git: GitProcess, logger: Logger) {
        self.configuration = configuration
        self.hostKeys = hostKeys
        self.access = access
        self.logger = logger
        self.running = RunningSessions(access: access)
        self.unauthenticated = UnauthenticatedConnections(limits: configuration.limits)
        self.sessions = SessionServer(
            access: access, git: git, running: running, slots: GitProcessSlots(limits: configuration.gitProcesses),
            sshUser: configuration.user, logger: logger)
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
        let watcher = Task { [running] in await running.watch() }
        defer { watcher.cancel() }
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
        let limits = configuration.limits
        let identity = ConnectionIdentity(sourceIP: channel.remoteAddress?.ipAddress)
        let evict: @Sendable () -> Void = { [logger] in
            SSHMetrics.connectionRefused()
            logger.info("unauthenticated connection closed to make room for another address", metadata: ["ip": "\(identity.sourceIP ?? "-")"])
            channel.close(promise: nil)
        }
        guard let admission = unauthenticated.admit(identity.sourceIP, evict: evict) else {
            SSHMetrics.connectionRefused()
            logger.info("connection refused: too many unauthenticated connections", metadata: ["ip": "\(identity.sourceIP ?? "-")"])
            throw SSHServerError.tooManyUnauthenticated
        }
        let loop = channel.eventLoop
        let loginGrace = loop.scheduleTask(in: TimeAmount(limits.loginGrace)) {
            if identity.current == nil { channel.close(promise: nil) }
        }
        let lifetime = loop.scheduleTask(in: TimeAmount(limits.maxConnectionLifetime)) { channel.close(promise: nil) }
        channel.closeFuture.whenComplete { _ in
            admission.release()
            loginGrace.cancel()
            lifetime.cancel()
        }
        let authenticator = PublicKeyAuthenticator(access: access, identity: identity, maxAuthTries: limits.maxAuthTries, logger: logger) {
            tooManyFailures in
            admission.release()
            // The refusal is on its way out first; then the connection goes, as OpenSSH's does.
            if tooManyFailures { loop.scheduleTask(in: .milliseconds(50)) { channel.close(promise: nil) } }
        }
        var serverConfiguration = SSHServerConfiguration(hostKeys: hostKeys.nioKeys, userAuthDelegate: authenticator)
        serverConfiguration.maximumPacketSize = limits.maximumPacketSize
        let openSessions = NIOLockedValueBox(0)
        let handler = NIOSSHHandler(
            role: .server(serverConfiguration),
            allocator: channel.allocator,
            inboundChildChannelInitializer: { [sessions] child, type in
                guard case .session = type else {
                    // Port forwarding and every other channel type are refused.
                    return child.eventLoop.makeFailedFuture(SSHServerError.channelTypeRefused)
                }
                let admitted = openSessions.withLockedValue { open in
                    guard open < limits.maxSessions else { return false }
                    open += 1
                    return true
                }
                guard admitted else { return child.eventLoop.makeFailedFuture(SSHServerError.tooManySessions) }
                child.closeFuture.whenComplete { _ in openSessions.withLockedValue { $0 -= 1 } }
                return child.eventLoop.makeCompletedFuture {
                    let state = SessionState(eventLoop: child.eventLoop)
                    try child.pipeline.syncOperations.addHandler(SessionRequestHandler(state: state))
                    let asyncChannel = try NIOAsyncChannel<SSHChannelData, SSHChannelData>(wrappingChannelSynchronously: child)
                    Task { await sessions.serve(asyncChannel, state: state, identity: identity) }
                }
            })
        try channel.pipeline.syncOperations.addHandlers([
            IdleStateHandler(allTimeout: TimeAmount(limits.idleTimeout)), IdleConnectionCloser(), HandshakeQuickAck(), handler,
            ConnectionErrorHandler(logger: logger),
        ])
    }
}

enum SSHServerError: Error {
    case channelTypeRefused
    case tooManySessions
    case tooManyUnauthenticated
}

/// Closes a connection that has been silent in both directions for the idle timeout.
final class IdleConnectionCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
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
