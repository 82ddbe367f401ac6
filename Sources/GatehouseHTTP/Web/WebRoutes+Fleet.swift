import Foundation
import GatehouseCore
import Hummingbird

/// The fields of the fleet page's forms.
struct FleetForm: Decodable {
    var key: String?
    var label: String?
    var repositories: String?
    var permission: String?
    var rules: String?
    var old: String?
    var overlap_hours: String?
    var uses: String?
    var hours: String?
    var label_prefix: String?
}

extension WebRoutes {
    /// Workspace settings → Key lifecycle (workspace administrators): where a key is, one key on many repositories,
    /// rotation with overlap, and registration tokens for machines built from scratch — the same services as the
    /// CLI and the API.
    func addFleetPage(to pages: RouterGroup<WebContext>) {
        let templates = templates
        let keys = services.keys
        let directory = services.directory
        let registrations = services.registrations
        let base = "/workspaces/{workspace}/settings/key-lifecycle"

        @Sendable func page(
            _ request: Request, _ context: WebContext, notice: String? = nil, extra: [String: Any] = [:], status: HTTPResponse.Status = .ok
        ) async throws -> Response {
            let slug = context.workspaceName
            _ = try await directory.administeredWorkspace(actor: context.actor, slug)
            var values: [String: Any] = ["slug": slug]
            if let fingerprint = request.uri.queryParameters.get("fingerprint"), !fingerprint.isEmpty {
                let usage = try await keys.usage(actor: context.actor, fingerprint: fingerprint, workspace: slug)
                let places: [[String: Any]] =
                    usage.repositoryAttachments.map { ["place": $0.repository.fullName, "id": $0.id, "label": $0.label, "lastUsed": Self.date($0.lastUsed)] }
                    + usage.workspaceAttachments.map {
                        ["place": "workspace \($0.workspace.slug) (\($0.selector))", "id": $0.id, "label": $0.label, "lastUsed": Self.date($0.lastUsed)]
                    }
                values["searched"] = fingerprint
                values["places"] = places
                values["nowhere"] = places.isEmpty
                values["hasPlaces"] = !places.isEmpty
            }
            values["tokens"] = try await registrations.list(actor: context.actor, workspace: slug).map { token in
                [
                    "id": token.id.uuidString.lowercased(), "repositories": token.selector.description, "usesLeft": token.usesLeft,
                    "expires": Self.date(token.expiresAt), "prefix": token.labelPrefix, "csrf": context.csrfToken,
                ] as [String: Any]
            }
            if let notice { values["notice"] = notice }
            values.merge(extra) { $1 }
            return templates.page("workspace_fleet", title: "Key lifecycle · \(slug)", values, context: context, status: status)
        }

        @Sendable func refusal(_ request: Request, _ context: WebContext, _ error: GatehouseError) async throws -> Response {
            try await page(request, context, extra: ["error": error.description], status: .badRequest)
        }

        pages.get(RouterPath(base)) { request, context in
            _ = try Self.signedIn(request, context)
            return try await page(request, context)
        }
        pages.post(RouterPath(base + "/attach")) { request, context in
            _ = try Self.signedIn(request, context)
            let slug = context.workspaceName
            let form = try await request.decode(as: FleetForm.self, context: context)
            do {
                let names = (form.repositories ?? "").split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init)
                let outcomes = try await keys.attach(
                    actor: context.actor, workspace: slug, repositories: names, label: form.label ?? "", keyText: form.key ?? "",
                    permission: try Self.permission(form.permission, form.rules), sourceIP: context.sourceIP)
                let created = outcomes.filter(\.created).count
                return try await page(request, context, notice: "Attached to \(created) repositories (\(outcomes.count - created) had it already).")
            } catch let error as GatehouseError where error.isAboutInput {
                return try await refusal(request, context, error)
            }
        }
        pages.post(RouterPath(base + "/rotate")) { request, context in
            _ = try Self.signedIn(request, context)
            let slug = context.workspaceName
            let form = try await request.decode(as: FleetForm.self, context: context)
            do {
                let rotation = try await keys.rotate(
                    actor: context.actor, workspace: slug, oldFingerprint: (form.old ?? "").trimmingCharacters(in: .whitespaces),
                    newKeyText: form.key ?? "", overlap: try Self.number(form.overlap_hours, "The overlap").map { (hours: Double) in hours * 3600 },
                    sourceIP: context.sourceIP)
                let when = rotation.oldRemovedAt.map { "are removed on \(Self.date($0))" } ?? "were removed now"
                return try await page(request, context, notice: "Rotated \(rotation.steps.count) attachments; the old key's attachments \(when).")
            } catch let error as GatehouseError where error.isAboutInput {
                return try await refusal(request, context, error)
            }
        }
        pages.post(RouterPath(base + "/registration-tokens")) { request, context in
            _ = try Self.signedIn(request, context)
            let slug = context.workspaceName
            let form = try await request.decode(as: FleetForm.self, context: context)
            do {
                let (_, secret) = try await registrations.create(
                    actor: context.actor, workspace: slug, selector: try RepositorySelector(parsing: form.repositories ?? "all"),
                    permission: try Self.permission(form.permission, form.rules), uses: try Self.number(form.uses, "Uses"),
                    lifetime: try Self.number(form.hours, "Hours").map { (hours: Double) in hours * 3600 },
                    labelPrefix: form.label_prefix ?? "", sourceIP: context.sourceIP)
                return try await page(request, context, extra: ["secret": secret])
            } catch let error as GatehouseError where error.isAboutInput {
                return try await refusal(request, context, error)
            }
        }
        pages.post(RouterPath(base + "/registration-tokens/{token_id}/revoke")) { request, context in
            _ = try Self.signedIn(request, context)
            let slug = context.workspaceName
            guard let id = context.parameters.get("token_id").flatMap(UUID.init(uuidString:)) else { throw WebError.notFound }
            try await registrations.revoke(actor: context.actor, workspace: slug, id: id, sourceIP: context.sourceIP)
            return redirect("/workspaces/\(slug)/settings/key-lifecycle")
        }
    }

    /// A number typed in a form; nil when left empty, so that the service's default applies.
    static func number<Number: LosslessStringConvertible>(_ text: String?, _ what: String) throws -> Number? {
        let trimmed = (text ?? "").trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return nil }
        guard let number = Number(trimmed) else { throw GatehouseError.invalidArgument("\(what) is a number, not \"\(trimmed)\".") }
        return number
    }
}
