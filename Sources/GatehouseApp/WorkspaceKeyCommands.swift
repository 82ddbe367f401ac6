import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseHTTP

/// `gatehouse workspace deploy-key …`: one key for a workspace's repositories, those created later included.
struct WorkspaceDeployKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy-key", abstract: "Manage workspace deployment keys: one key for all (or the selected) repositories.",
        subcommands: [Add.self, List.self, Edit.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Attach a key to a workspace.")
        @OptionGroup var options: DataOptions
        @Argument(help: "The workspace slug.") var workspace: String
        @Option(help: "A name for the key, e.g. the machine that uses it.") var label: String
        @Option(help: "The public key file (.pub), or - for standard input.") var keyFile: String
        @Option(help: "all (every repository, now and later), or slugs and globs: 'web-*,api'.") var repos = "all"
        @OptionGroup var write: WriteOptions
        @Option(help: "When the key stops working: 2027-03-31, 90d or an ISO 8601 time (default: never).") var expires: String?

        func run() async throws {
            let text = try readKeyFile(keyFile)
            let selector = try RepositorySelector(parsing: repos)
            let permission = try write.permission() ?? .readOnly
            let expiresAt = try expires.map { text throws(GatehouseError) in try ExpiryDate.parse(text) }
            let added = try await options.withDirectory {
                try await $0.keys.addWorkspaceDeployKey(
                    actor: .localOperator, workspace: workspace, label: label, keyText: text, selector: selector, permission: permission,
                    expiresAt: expiresAt)
            }
            print(
                "Added deployment key \(added.id) \"\(added.label)\" (\(added.key.fingerprint)) to workspace \(workspace) for repositories \(added.selector), \(permission.summary)."
            )
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a workspace's deployment keys.")
        @OptionGroup var options: DataOptions
        @Argument(help: "The workspace slug.") var workspace: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await options.withDirectory { directory in
                let load = { try await directory.keys.listWorkspaceDeployKeys(actor: .localOperator, workspace: workspace, window: $0) }
                if json { return try await ListPrinting.jsonArray(load, cursor: \.id, CommandLineJSON.workspaceDeployKey) }
                let printed = try await ListPrinting.each(load, cursor: \.id) { keys in
                    for key in keys {
                        let permission = KeyPermission.summary(key.access, key.refRules)
                        let used = key.lastUsed.map { ISO8601DateFormatter().string(from: $0) } ?? "never used"
                        print("\(key.id)\t\(key.label)\t\(key.key.typeName)\t\(key.key.fingerprint)\trepositories \(key.selector)\t\(permission)\t\(used)")
                    }
                }
                if printed == 0 {
                    print(
                        "\(workspace) has no workspace deployment keys. Add one with `gatehouse workspace deploy-key add \(workspace) --label LABEL --key-file FILE`."
                    )
                }
            }
        }
    }

    struct Edit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a workspace deployment key's label, repositories or permission (the key itself cannot change).")
        @OptionGroup var options: DataOptions
        @Argument(help: "The workspace slug.") var workspace: String
        @Argument(help: "The key's id, from `workspace deploy-key list`.") var id: Int
        @Option(help: "The new label.") var label: String?
        @Option(help: "all, or slugs and globs: 'web-*,api'.") var repos: String?
        @OptionGroup var write: WriteOptions

        func run() async throws {
            let selector = try repos.map { text throws(GatehouseError) in try RepositorySelector(parsing: text) }
            let permission = try write.permission()
            guard label != nil || selector != nil || permission != nil else {
                throw GatehouseError.invalidArgument("Say what to change: --label, --repos, --write PATTERN (repeatable) or --read-only.")
            }
            let key = try await options.withDirectory {
                try await $0.keys.editWorkspaceDeployKey(
                    actor: .localOperator, workspace: workspace, id: id, label: label, selector: selector, permission: permission)
            }
            let summary = KeyPermission.summary(key.access, key.refRules)
            print("Deployment key \(key.id) of workspace \(workspace) is \"\(key.label)\" for repositories \(key.selector), \(summary).")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a workspace deployment key.")
        @OptionGroup var options: DataOptions
        @Argument(help: "The workspace slug.") var workspace: String
        @Argument(help: "The key's id, from `workspace deploy-key list`.") var id: Int

        func run() async throws {
            try await options.withDirectory { try await $0.keys.removeWorkspaceDeployKey(actor: .localOperator, workspace: workspace, id: id) }
            print("Removed deployment key \(id) from workspace \(workspace).")
        }
    }
}

/// `gatehouse workspace policy`: whether deployment keys of the workspace may be write-enabled.
struct WorkspacePolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "Allow or forbid write-enabled deployment keys in a workspace (allowed by default).")
    @OptionGroup var options: DataOptions
    @Argument(help: "The workspace slug.") var workspace: String
    @Flag(help: "Allow write-enabled deployment keys, or forbid them: existing ones then act read-only.")
    var writeDeployKeys: WritePolicy?
    @Option(help: "The longest lifetime of new deployment keys in days (they then need --expires within it), or none.")
    var maxKeyLifetimeDays: String?

    enum WritePolicy: String, EnumerableFlag {
        case allowWriteDeployKeys, denyWriteDeployKeys
    }

    func run() async throws {
        guard writeDeployKeys != nil || maxKeyLifetimeDays != nil else {
            throw GatehouseError.invalidArgument("Say what to set: --allow-write-deploy-keys, --deny-write-deploy-keys or --max-key-lifetime-days DAYS|none.")
        }
        var days: Int?
        if let text = maxKeyLifetimeDays, text != "none" {
            guard let number = Int(text) else { throw GatehouseError.invalidArgument("--max-key-lifetime-days takes a number of days or none.") }
            days = number
        }
        try await options.withDirectory { directory in
            if let writeDeployKeys {
                try await directory.directory.setAllowWriteDeployKeys(
                    actor: .localOperator, workspace: workspace, allowed: writeDeployKeys == .allowWriteDeployKeys)
            }
            if maxKeyLifetimeDays != nil {
                try await directory.directory.setMaxDeployKeyLifetime(actor: .localOperator, workspace: workspace, days: days)
            }
        }
        if let writeDeployKeys {
            print(
                writeDeployKeys == .allowWriteDeployKeys
                    ? "Workspace \(workspace) allows write-enabled deployment keys."
                    : "Workspace \(workspace) allows no write-enabled deployment keys; those it has act read-only.")
        }
        if maxKeyLifetimeDays != nil {
            print(
                days.map { "New deployment keys of \(workspace) need an expiry within \($0) days." }
                    ?? "Deployment keys of \(workspace) may live without limit.")
        }
    }
}
