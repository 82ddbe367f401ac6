import Crypto
import NIOCore
import NIOPosix
import NIOSSH

/// A minimal SSH client on swift-nio-ssh, for what OpenSSH refuses to do: offering one public key while
/// signing with another private key.
enum RawSSHClient {
    /// Connects and authenticates with exactly one offer. Returns true if the server accepted it (a session
    /// channel opened), false if the server answered with a failure (the client was asked for another offer).
    static func authenticates(port: Int, offering publicKey: NIOSSHPublicKey, signingWith privateKey: NIOSSHPrivateKey) async throws -> Bool {
        try await authenticates(port: port, offers: [.privateKey(offering: publicKey, signingWith: privateKey)])
    }

    /// Connects and makes `offers` in order on one connection. Returns true if the server accepted one (a session
    /// channel opened), false if it refused them all.
    static func authenticates(port: Int, offers: [NIOSSHUserAuthenticationOffer.Offer], from source: String? = nil) async throws -> Bool {
        let group = MultiThreadedEventLoopGroup.singleton
        let eventLoop = group.next()
        let outcome = eventLoop.makePromise(of: Bool.self)
        let delegate = OffersDelegate(
            offers: offers.map { NIOSSHUserAuthenticationOffer(username: "git", serviceName: "", offer: $0) }, refused: outcome)
        var bootstrap = ClientBootstrap(group: eventLoop)
        if let source { bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: source, port: 0)) }
        let channel =
            try await bootstrap
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        NIOSSHHandler(
                            role: .client(.init(userAuthDelegate: delegate, serverAuthDelegate: AnyHostKey())),
                            allocator: channel.allocator, inboundChildChannelInitializer: nil))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        defer { channel.close(promise: nil) }
        channel.closeFuture.whenComplete { _ in outcome.fail(ChannelError.ioOnClosedChannel) }
        channel.pipeline.handler(type: NIOSSHHandler.self).whenSuccess { handler in
            let opened = channel.eventLoop.makePromise(of: Channel.self)
            handler.createChannel(opened, channelType: .session) { child, _ in child.eventLoop.makeSucceededVoidFuture() }
            opened.futureResult.whenSuccess { _ in outcome.succeed(true) }
        }
        return try await outcome.futureResult.get()
    }
}

/// Makes its offers in order; being asked once more after the last means the server refused them all.
private final class OffersDelegate: NIOSSHClientUserAuthenticationDelegate, @unchecked Sendable {
    private var offers: [NIOSSHUserAuthenticationOffer]
    private let refused: EventLoopPromise<Bool>

    init(offers: [NIOSSHUserAuthenticationOffer], refused: EventLoopPromise<Bool>) {
        self.offers = offers
        self.refused = refused
    }

    func nextAuthenticationType(
        availableMethods: NIOSSHAvailableUserAuthenticationMethods,
        nextChallengePromise: EventLoopPromise<NIOSSHUserAuthenticationOffer?>
    ) {
        guard !offers.isEmpty else {
            refused.succeed(false)
            nextChallengePromise.succeed(nil)
            return
        }
        nextChallengePromise.succeed(offers.removeFirst())
    }
}

extension NIOSSHUserAuthenticationOffer.Offer {
    /// `publicKey` offered, signed with `privateKey` (the same key's, or another's to forge).
    static func privateKey(offering publicKey: NIOSSHPublicKey, signingWith privateKey: NIOSSHPrivateKey) -> Self {
        var offer = NIOSSHUserAuthenticationOffer.Offer.PrivateKey(privateKey: privateKey)
        offer.publicKey = publicKey
        return .privateKey(offer)
    }
}

private final class AnyHostKey: NIOSSHClientServerAuthenticationDelegate, Sendable {
    func validateHostKey(hostKey: NIOSSHPublicKey, validationCompletePromise: EventLoopPromise<Void>) {
        validationCompletePromise.succeed(())
    }
}
