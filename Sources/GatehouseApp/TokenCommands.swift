import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseHTTP

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Manage API tokens (HTTP Basic USERNAME:TOKEN, or Authorization: Bearer TOKEN).",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token for an account and print it once.")
        @OptionGroup var options: DataOptions
        @Argument(help: "The account the token acts for.") var username: String
        @Argument(help: "A name for the token, e.g. the script that uses it (default \"\(TokenService.defaultName)\").") var name: String?
        @Option(name: .customLong("scope"), help: "A scope, repeatable: repository, repository:write, repository:admin, account, account:write.")
        var scopes: [TokenScope] = []
        @Option(help: "Expiry: YYYY-MM-DD (end of that day UTC), an ISO 8601 time, or a lifetime such as 90d.") var expires: String?

        func run() async throws {
            let expiry = try expires.map { text throws(GatehouseError) in try ExpiryDate.parse(text) }
            let issued = try await options.withDirectory {
                try await $0.tokens.create(actor: .localOperator, username: username, name: name ?? TokenService.defaultName, scopes: scopes, expiresAt: expiry)
            }
            print(issued.secret)
            let until = issued.token.expiresAt.map { "until \(ISO8601DateFormatter().string(from: $0))" } ?? "without expiry"
            FileHandle.standardError.write(
                Data(
                    """
                    Created token \(issued.token.id.uuidString.lowercased()) "\(issued.token.name)" for \(username) \
                    (\(issued.token.scopes.names.joined(separator: ", ")); \(until)).
                    It is shown only now: store it in your secret manager. Use it as: curl -u \(username):TOKEN URL

                    """.utf8))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an account's tokens (never their secrets).")
        @OptionGroup var options: DataOptions
        @Argument(help: "The account.") var username: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let tokens = try await options.withDirectory { try await $0.tokens.list(actor: .localOperator, username: username) }
            if json { return print(CommandLineJSON.encode(tokens)) }
            if tokens.isEmpty { print("\(username) has no API tokens. Create one with `gatehouse token create \(username) NAME --scope SCOPE`.") }
            let formatter = ISO8601DateFormatter()
            for token in tokens {
                let expiry = token.expiresAt.map { "expires \(formatter.string(from: $0))" } ?? "no expiry"
                let used = token.lastUsed.map { "last used \(formatter.string(from: $0))" } ?? "never used"
                print("\(token.id.uuidString.lowercased())\t\(token.name)\t\(token.scopes.names.joined(separator: ","))\t\(expiry)\t\(used)")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token: it stops working at once.")
        @OptionGroup var options: DataOptions
        @Argument(help: "The account.") var username: String
        @Argument(help: "The token id, from `token list`.") var id: String

        func run() async throws {
            guard let uuid = UUID(braced: id) else {
                throw GatehouseError.invalidArgument("\"\(id)\" is not a token id. Token ids are UUIDs; see `gatehouse token list \(username)`.")
            }
            try await options.withDirectory { try await $0.tokens.revoke(actor: .localOperator, username: username, id: uuid) }
            print("Revoked token \(uuid.uuidString.lowercased()) of \(username).")
        }
    }
}

extension TokenScope: ExpressibleByArgument {}
