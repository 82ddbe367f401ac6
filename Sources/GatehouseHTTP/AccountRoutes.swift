import GatehouseCore
import GatehouseKeys
import Hummingbird

extension APIServer {
    /// `/2.0/user`, `/2.0/hostkeys` and `/2.0/workspaces/{workspace}/audit`.
    func addAccountRoutes(to router: APIRouter) {
        let directory = services.directory
        let ssh = ssh

        router.get("/2.0/user") { request, context in
            let actor = try context.signedIn()
            guard let user = actor.user else { throw APIError.unauthorized() }
            if let denial = Access.authorizeAccount(actor, owner: user, write: false) { throw GatehouseError.accessDenied(denial) }
            return JSON.response(UserJSON(user, base: request.baseURL))
        }
        router.get("/2.0/hostkeys") { request, _ in
            let host = request.head.authority.map(Self.hostName) ?? "localhost"
            let values = ssh.hostKeys.map { key in
                HostKeyJSON(
                    key_type: String(key.publicKey.prefix { $0 != " " }), fingerprint: key.fingerprint,
                    known_hosts: KnownHosts.line(host: host, port: ssh.port, key: key.publicKey))
            }
            return JSON.response(PageRequest.all(values))
        }
        router.get("/2.0/workspaces/{workspace}/audit") { request, context in
            let actor = try context.signedIn()
            let page = try PageRequest(request)
            let entries = try await directory.auditLog(actor: actor, workspace: context.workspaceName, window: page.window)
            return JSON.response(page.envelope(entries, url: request.urlWithoutQuery, AuditEntryJSON.init))
        }
    }

    /// The host part of `host:port` or `[v6]:port`.
    static func hostName(_ authority: String) -> String {
        if authority.hasPrefix("["), let end = authority.firstIndex(of: "]") {
            return String(authority[authority.index(after: authority.startIndex)..<end])
        }
        return String(authority.prefix { $0 != ":" })
    }
}

extension PageRequest {
    /// A single page holding everything, for short fixed lists.
    static func all<Value>(_ values: [Value]) -> Page<Value> {
        Page(pagelen: max(values.count, 1), page: 1, size: values.count, next: nil, previous: nil, values: values)
    }
}
