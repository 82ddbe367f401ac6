import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseHTTP

/// `gatehouse registration-token …`: short-lived secrets with which machines built from scratch register their key.
struct RegistrationTokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registration-token", abstract: "Let machines built from scratch register their own deployment key (cloud-init).",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a registration token and print it once.")
        @OptionGroup var options: DataOptions
        @Argument(help: "The workspace slug.") var workspace: String
        @Option(help: "The repositories registered keys reach: all, or slugs and globs such as 'web-*,api'.") var repos = "all"
        @OptionGroup var write: WriteOptions
        @Option(help: "How many machines may register with it.") var uses = 1
        @Option(help: "How long it works: 1h, 90m, 7d (at most 30 days).") var expires = "1h"
        @Option(help: "Put before each machine's label, e.g. ci-.") var labelPrefix = ""

        func run() async throws {
            let selector = try RepositorySelector(parsing: repos)
            let permission = try write.permission() ?? .readOnly
            let lifetime = try ExpiryDate.lifetime(expires)
            let (token, secret) = try await options.withDirectory {
                try await $0.registrations.create(
                    actor: .localOperator, workspace: workspace, selector: selector, permission: permission, uses: uses, lifetime: lifetime,
                    labelPrefix: labelPrefix)
            }
            print(secret)
            FileHandle.standardError.write(
                Data(
                    """
                    Created registration token \(token.id.uuidString.lowercased()) for \(workspace): repositories \(token.selector), \(permission.summary), \(token.usesLeft) uses, until \(ISO8601DateFormatter().string(from: token.expiresAt)).
                    It is shown only now. A machine registers its key with:
                      curl -X POST -H "Authorization: Bearer TOKEN" -H 'Content-Type: application/json' https://HOST/2.0/workspaces/\(workspace)/deploy-keys/register -d '{"key": "…", "label": "…"}'

                    """.utf8))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a workspace's registration tokens (never their secrets).")
        @OptionGroup var options: DataOptions
        @Argument(help: "The workspace slug.") var workspace: String

        func run() async throws {
            let tokens = try await options.withDirectory { try await $0.registrations.list(actor: .localOperator, workspace: workspace) }
            if tokens.isEmpty { print("\(workspace) has no registration tokens.") }
            let formatter = ISO8601DateFormatter()
            for token in tokens {
                print(
                    "\(token.id.uuidString.lowercased())\trepositories \(token.selector)\t\(token.usesLeft) uses left\tuntil \(formatter.string(from: token.expiresAt))\tprefix \"\(token.labelPrefix)\""
                )
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a registration token: it stops working at once.")
        @OptionGroup var options: DataOptions
        @Argument(help: "The workspace slug.") var workspace: String
        @Argument(help: "The token id, from `registration-token list`.") var id: String

        func run() async throws {
            guard let uuid = UUID(braced: id) else {
                throw GatehouseError.invalidArgument("\"\(id)\" is not a token id. Token ids are UUIDs; see `gatehouse registration-token list \(workspace)`.")
            }
            try await options.withDirectory { try await $0.registrations.revoke(actor: .localOperator, workspace: workspace, id: uuid) }
            print("Revoked registration token \(uuid.uuidString.lowercased()) of \(workspace).")
        }
    }
}
