import GatehouseCore
import GatehouseKeys
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSH

/// Resolves an offered key to a principal by its fingerprint (one indexed lookup). NIOSSH calls this only
/// for requests whose signature it has verified, so recording the key here is safe. After `maxAuthTries`
/// refusals the connection is closed.
final class PublicKeyAuthenticator: NIOSSHServerUserAuthenticationDelegate, Sendable {
    let access: AccessService
    let identity: ConnectionIdentity
    let maxAuthTries: Int
    let logger: Logger
    /// Called once authentication succeeded, and with `true` when the connection must close.
    let finished: @Sendable (_ tooManyFailures: Bool) -> Void
    private let failures = NIOLockedValueBox(0)

    init(
        access: AccessService, identity: ConnectionIdentity, maxAuthTries: Int, logger: Logger,
        finished: @escaping @Sendable (_ tooManyFailures: Bool) -> Void
    ) {
        self.access = access
        self.identity = identity
        self.maxAuthTries = maxAuthTries
        self.logger = logger
        self.finished = finished
    }

    var supportedAuthenticationMethods: NIOSSHAvailableUserAuthenticationMethods { .publicKey }

    func requestReceived(request: NIOSSHUserAuthenticationRequest, responsePromise: EventLoopPromise<NIOSSHUserAuthenticationOutcome>) {
        // Clients ask with "none" first to learn the methods; like OpenSSH, that is not counted as a try.
        if case .none = request.request { return responsePromise.succeed(.failure) }
        // The connection is closing; nothing more is looked at on it, not even a good key.
        guard failures.withLockedValue({ $0 }) < maxAuthTries else { return responsePromise.succeed(.failure) }
        guard case .publicKey(let offer) = request.request,
            let key = try? PublicKey(parsing: String(openSSHPublicKey: offer.publicKey))
        else {
            return responsePromise.succeed(refused())
        }
        let username = request.username
        responsePromise.completeWithTask { [access, identity, logger] in
            let principal = try await access.principal(fingerprint: key.fingerprint)
            SSHMetrics.authentication(principal)
            guard principal != nil else {
                logger.info("unknown key refused", metadata: ["fingerprint": "\(key.fingerprint)", "ip": "\(identity.sourceIP ?? "-")"])
                return self.refused()
            }
            identity.record(.init(fingerprint: key.fingerprint, username: username))
            self.finished(false)
            return .success
        }
    }

    private func refused() -> NIOSSHUserAuthenticationOutcome {
        let count = failures.withLockedValue { failures in
            failures += 1
            return failures
        }
        if count >= maxAuthTries {
            logger.info("too many authentication failures", metadata: ["ip": "\(identity.sourceIP ?? "-")", "tries": "\(count)"])
            finished(true)
        }
        return .failure
    }
}
