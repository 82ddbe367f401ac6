import GatehouseCore
import GatehouseKeys
import Logging
import NIOCore
import NIOSSH

/// Resolves an offered key to a principal by its fingerprint (one indexed lookup). NIOSSH calls this only
/// for requests whose signature it has verified, so recording the principal here is safe.
final class PublicKeyAuthenticator: NIOSSHServerUserAuthenticationDelegate, Sendable {
    let access: AccessService
    let identity: ConnectionIdentity
    let logger: Logger

    init(access: AccessService, identity: ConnectionIdentity, logger: Logger) {
        self.access = access
        self.identity = identity
        self.logger = logger
    }

    var supportedAuthenticationMethods: NIOSSHAvailableUserAuthenticationMethods { .publicKey }

    func requestReceived(request: NIOSSHUserAuthenticationRequest, responsePromise: EventLoopPromise<NIOSSHUserAuthenticationOutcome>) {
        guard case .publicKey(let offer) = request.request,
            let key = try? PublicKey(parsing: String(openSSHPublicKey: offer.publicKey))
        else {
            responsePromise.succeed(.failure)
            return
        }
        let username = request.username
        responsePromise.completeWithTask { [access, identity, logger] in
            let principal = try await access.principal(fingerprint: key.fingerprint)
            SSHMetrics.authentication(principal)
            guard let principal else {
                logger.info("unknown key refused", metadata: ["fingerprint": "\(key.fingerprint)", "ip": "\(identity.sourceIP ?? "-")"])
                return .failure
            }
            identity.record(principal, username: username)
            return .success
        }
    }
}
