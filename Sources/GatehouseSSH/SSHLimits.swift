/// What one client can make the built-in SSH server spend, each a setting (`ssh.*`) with OpenSSH's default where
/// OpenSSH has one.
public struct SSHLimits: Sendable, Equatable {
    /// `ssh.login-grace-seconds`: a connection that has not authenticated by then is closed (OpenSSH's LoginGraceTime).
    public var loginGrace: Duration = .seconds(20)
    /// `ssh.max-auth-tries`: failed authentication requests on one connection before it is closed (OpenSSH's MaxAuthTries).
    public var maxAuthTries = 6
    /// `ssh.max-unauthenticated`: connections not yet authenticated, on the whole server; at this number the busiest
    /// address's oldest is closed for a newcomer from a less busy one, or the newcomer is.
    public var maxUnauthenticated = 256
    /// `ssh.max-unauthenticated-per-address`: the same, from one source address.
    public var maxUnauthenticatedPerAddress = 32
    /// `ssh.max-sessions`: session channels open at once on one connection (OpenSSH's MaxSessions).
    public var maxSessions = 10
    /// `ssh.idle-timeout-seconds`: a connection with no traffic for this long is closed.
    public var idleTimeout: Duration = .seconds(600)
    /// `ssh.max-connection-lifetime-seconds`: no connection stays open longer, busy or not.
    public var maxConnectionLifetime: Duration = .seconds(86_400)
    /// `ssh.channel-window-kib`: how much a client may send on a channel before the server has read it (OpenSSH's
    /// 2 MiB). It bounds what a channel that has not started git can make the server hold; swift-nio-ssh sizes it
    /// as 64 packets, so it is at least 2 MiB.
    public var channelWindow = 2 * 1_048_576

    /// The largest packet the server accepts, from which swift-nio-ssh derives the window (64 packets).
    var maximumPacketSize: Int { max(32_768, channelWindow / 64) }

    public init() {}
}
