import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// Acknowledges the client's handshake packets at once.
///
/// OpenSSH clients leave Nagle's algorithm on for non-interactive sessions and send some handshake packets
/// back to back (NEWKEYS then SERVICE_REQUEST); the second waits for the first to be acknowledged, and a
/// server with nothing to say acknowledges only after its delayed-ACK timer (~40 ms). OpenSSH's sshd hides
/// this by sending EXT_INFO; swift-nio-ssh sends nothing, so each `git ls-remote` paid two such waits.
/// Linux clears TCP_QUICKACK on its own, so it is set again after every read until authentication is over.
final class HandshakeQuickAck: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// Enough reads to cover key exchange and authentication with a few offered keys.
    private var readsLeft = 24

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
        #if os(Linux)
            try? context.channel.syncOptions?.setOption(ChannelOptions.Types.SocketOption(level: .tcp, name: .init(rawValue: TCP_QUICKACK)), value: 1)
        #endif
        readsLeft -= 1
        if readsLeft == 0 { context.pipeline.syncOperations.removeHandler(context: context, promise: nil) }
    }
}
