import Foundation
import GatehouseCore
import GatehouseKeys
import Hummingbird

extension WebRoutes {
    func addRepositoryPages(to pages: RouterGroup<WebContext>) {
        let templates = templates
        let directory = services.directory
        let ssh = ssh

        pages.get("/{workspace}/{repo_slug}") { request, context in
            let repository = try await directory.repository(actor: context.actor, context.repositoryName)
            let host = request.head.authority.map(APIServer.hostName) ?? "localhost"
            let hostName = KnownHosts.hostPattern(host: host, port: ssh.port)
            let portFlag = ssh.port == 22 ? "" : " -p \(ssh.port)"
            let hostKeys: [[String: Any]] = ssh.hostKeys.map { key in
                [
                    "type": String(key.publicKey.prefix { $0 != " " }), "fingerprint": key.fingerprint,
                    "knownHosts": KnownHosts.line(host: host, port: ssh.port, key: key.publicKey),
                ]
            }
            let isAdmin = try await directory.administers(context.actor, repository: repository)
            return templates.page(
                "repository", title: repository.fullName,
                [
                    "fullName": repository.fullName, "isPrivate": repository.isPrivate, "isAdmin": isAdmin,
                    "cloneURL": "ssh://\(ssh.user)@\(host)\(ssh.port == 22 ? "" : ":\(ssh.port)")/\(repository.fullName).git",
                    "hostKeys": hostKeys, "knownHostsName": hostName, "testCommand": "ssh -T\(portFlag) \(ssh.user)@\(host)",
                ], context: context)
        }
        pages.get("/{workspace}/{repo_slug}/admin") { request, context in
            _ = try Self.signedIn(request, context)
            let repository = try await directory.repository(actor: context.actor, context.repositoryName, operation: .administer)
            return templates.page(
                "repository_settings", title: "Settings · \(repository.fullName)",
                [
                    "fullName": repository.fullName, "isPrivate": repository.isPrivate, "onOverview": true,
                ], context: context)
        }
    }
}
