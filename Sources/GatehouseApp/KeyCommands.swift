import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseHTTP
import GatehouseKeys

struct DeployKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy-key", abstract: "Manage deployment keys: SSH keys for machines, read-only unless limited to refs with --write.",
        subcommands: [Add.self, List.self, Edit.self, Remove.self, Where.self, Rotate.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Attach a key to one or more repositories (each attachment gets its own id).")
        @OptionGroup var options: DataOptions
        @Argument(help: "WORKSPACE/REPOSITORY, one or more.") var repositories: [String] = []
        @Option(help: "Also every repository matching WORKSPACE/GLOB, e.g. 'acme/web-*' (repeatable).") var repos: [String] = []
        @Option(help: "A name for the key, e.g. the machine that uses it.") var label: String
        @Option(help: "The public key file (.pub), or - for standard input.") var keyFile: String
        @Option(
            name: .customLong("certificate-principal"),
            help: "Make the key a certificate authority: OpenSSH certificates it signs naming this principal clone (repeatable).")
        var certificatePrincipals: [String] = []
        @OptionGroup var write: WriteOptions
        @Option(help: "When the key stops working: 2027-03-31, 90d or an ISO 8601 time (default: never).") var expires: String?

        func run() async throws {
            let text = try readKeyFile(keyFile)
            let permission = try write.permission() ?? .readOnly
            let expiresAt = try expires.map { text throws(GatehouseError) in try ExpiryDate.parse(text) }
            let added = try await options.withDirectory { directory in
                var names = repositories
                for pattern in repos {
                    let parts = pattern.split(separator: "/", maxSplits: 1).map(String.init)
                    guard parts.count == 2 else {
                        throw GatehouseError.invalidArgument("--repos takes WORKSPACE/GLOB, e.g. acme/web-*; got \"\(pattern)\".")
                    }
                    names += try await directory.keys.repositories(actor: .localOperator, workspace: parts[0], matching: [parts[1]])
                }
                return try await directory.keys.addDeployKey(
                    actor: .localOperator, repositories: names, label: label, keyText: text,
                    certificatePrincipals: certificatePrincipals.isEmpty ? nil : certificatePrincipals, permission: permission,
                    expiresAt: expiresAt)
            }
            let what = certificatePrincipals.isEmpty ? "deployment key" : "certificate authority"
            for deployKey in added {
                print(
                    "Added \(what) \(deployKey.id) \"\(deployKey.label)\" (\(deployKey.key.fingerprint)) to \(deployKey.repository.fullName), \(permission.summary)."
                )
            }
            if let note = added.first?.key.frontEndNote { print("Note: \(note)") }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a repository's deployment keys.")
        @OptionGroup var options: DataOptions
        @Argument(help: "WORKSPACE/REPOSITORY.") var repository: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await options.withDirectory { directory in
                let load = { try await directory.keys.listDeployKeys(actor: .localOperator, repository: repository, window: $0) }
                if json { return try await ListPrinting.jsonArray(load, cursor: \.id, CommandLineJSON.deployKey) }
                let printed = try await ListPrinting.each(load, cursor: \.id) { keys in
                    for key in keys {
                        let used = key.lastUsed.map { ISO8601DateFormatter().string(from: $0) } ?? "never used"
                        let type =
                            key.key.certificatePrincipals.map { "certificate authority (\(key.key.typeName)) for \($0.joined(separator: ","))" }
                            ?? key.key.typeName
                        let permission = KeyPermission.summary(key.access, key.refRules)
                        print("\(key.id)\t\(key.label)\t\(type)\t\(key.key.fingerprint)\t\(permission)\t\(used)")
                    }
                }
                if printed == 0 {
                    print("\(repository) has no deployment keys. Add one with `gatehouse deploy-key add \(repository) --label LABEL --key-file FILE`.")
                }
            }
        }
    }

    struct Edit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a deployment key's label or permission (the key itself cannot change).")
        @OptionGroup var options: DataOptions
        @Argument(help: "WORKSPACE/REPOSITORY.") var repository: String
        @Argument(help: "The deployment key id, from `deploy-key list`.") var id: Int
        @Option(help: "The new label.") var label: String?
        @OptionGroup var write: WriteOptions

        func run() async throws {
            let permission = try write.permission()
            guard label != nil || permission != nil else {
                throw GatehouseError.invalidArgument("Say what to change: --label, --write PATTERN (repeatable) or --read-only.")
            }
            let key = try await options.withDirectory {
                try await $0.keys.editDeployKey(actor: .localOperator, repository: repository, id: id, label: label, permission: permission)
            }
            let permissionSummary = KeyPermission.summary(key.access, key.refRules)
            print("Deployment key \(key.id) on \(key.repository.fullName) is \"\(key.label)\", \(permissionSummary).")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a deployment key from a repository.")
        @OptionGroup var options: DataOptions
        @Argument(help: "WORKSPACE/REPOSITORY.") var repository: String
        @Argument(help: "The deployment key id, from `deploy-key list`.") var id: Int

        func run() async throws {
            try await options.withDirectory { try await $0.keys.removeDeployKey(actor: .localOperator, repository: repository, id: id) }
            print("Removed deployment key \(id) from \(repository).")
        }
    }
}

struct SSHKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ssh-key", abstract: "Manage accounts' SSH keys.",
        subcommands: [Add.self, List.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add an SSH key to an account.")
        @OptionGroup var options: DataOptions
        @Argument(help: "The account.") var name: String
        @Option(help: "A name for the key.") var label: String
        @Option(help: "The public key file (.pub), or - for standard input.") var keyFile: String
        @Option(help: "When the key stops working: 2027-03-31, 90d or an ISO 8601 time (default: never).") var expires: String?

        func run() async throws {
            let text = try readKeyFile(keyFile)
            let expiresAt = try expires.map { text throws(GatehouseError) in try ExpiryDate.parse(text) }
            let (_, key) = try await options.withDirectory {
                try await $0.keys.addAccountKey(actor: .localOperator, username: name, label: label, keyText: text, expiresAt: expiresAt)
            }
            print("Added SSH key \"\(label)\" (\(key.fingerprint)) to \(name).")
            if let note = key.frontEndNote { print("Note: \(note)") }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an account's SSH keys.")
        @OptionGroup var options: DataOptions
        @Argument(help: "The account.") var name: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await options.withDirectory { directory in
                var owner: User?
                let load = { (window: ListWindow) in
                    let (user, page) = try await directory.keys.listAccountKeys(actor: .localOperator, username: name, window: window)
                    owner = user
                    return page
                }
                if json { return try await ListPrinting.jsonArray(load) { CommandLineJSON.accountKey($0, owner: owner!) } }
                try await ListPrinting.each(load) { keys in
                    for key in keys { print("\(key.id)\t\(key.label ?? "")\t\(key.typeName)\t\(key.fingerprint)") }
                }
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an SSH key from an account.")
        @OptionGroup var options: DataOptions
        @Argument(help: "The account.") var name: String
        @Argument(help: "The key's id, from `ssh-key list`.") var id: String

        func run() async throws {
            guard let uuid = UUID(braced: id) else {
                throw GatehouseError.invalidArgument("\"\(id)\" is not a key id. Key ids are UUIDs; see `gatehouse ssh-key list \(name)`.")
            }
            try await options.withDirectory { try await $0.keys.removeAccountKey(actor: .localOperator, username: name, id: uuid) }
            print("Removed SSH key \(uuid.uuidString.lowercased()) from \(name).")
        }
    }
}

/// `--write PATTERN[:OPERATIONS]` (repeatable) and `--read-only`: a deployment key's permission.
struct WriteOptions: ParsableArguments {
    @Option(
        name: .customLong("write"),
        help:
            "Make the key write-enabled for refs matching PATTERN (refs/tags/v*, refs/heads/release/**), optionally :create,update,force,delete (default create,update); repeatable."
    )
    var rules: [String] = []
    @Flag(name: .customLong("read-only"), help: "Make the key read-only again (edit only).") var readOnly = false

    /// The permission asked for, nil when neither option was given.
    func permission() throws -> KeyPermission? {
        if readOnly {
            guard rules.isEmpty else { throw GatehouseError.invalidArgument("Give --read-only or --write, not both.") }
            return .readOnly
        }
        guard !rules.isEmpty else { return nil }
        return try KeyPermission(access: .write, rules: rules.map { text throws(GatehouseError) in try RefRule(parsing: text) })
    }
}

extension DeployKeyCommand {
    struct Where: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show every repository and workspace a key is attached to.")
        @OptionGroup var options: DataOptions
        @Argument(help: "The key's fingerprint (SHA256:…), or give --key-file.") var fingerprint: String?
        @Option(help: "The public key file (.pub), or - for standard input.") var keyFile: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let wanted: String
            if let keyFile {
                wanted = try KeyService.parse(try readKeyFile(keyFile)).fingerprint
            } else if let fingerprint {
                wanted = fingerprint
            } else {
                throw GatehouseError.invalidArgument("Give the key's fingerprint (SHA256:…, from ssh-keygen -lf KEY.pub) or --key-file KEY.pub.")
            }
            let usage = try await options.withDirectory { try await $0.keys.usage(actor: .localOperator, fingerprint: wanted) }
            if json { return print(CommandLineJSON.keyUsage(usage)) }
            if usage.repositoryAttachments.isEmpty && usage.workspaceAttachments.isEmpty { print("\(wanted) is attached nowhere.") }
            for attached in usage.repositoryAttachments {
                let permission = KeyPermission.summary(attached.access, attached.refRules)
                let used = attached.lastUsed.map { ISO8601DateFormatter().string(from: $0) } ?? "never used"
                print(
                    "\(attached.repository.fullName)\t\(attached.id)\t\(attached.label)\t\(permission)\tadded \(ISO8601DateFormatter().string(from: attached.addedAt)) by \(attached.addedBy ?? "operator")\t\(used)"
                )
            }
            for attached in usage.workspaceAttachments {
                let permission = KeyPermission.summary(attached.access, attached.refRules)
                let used = attached.lastUsed.map { ISO8601DateFormatter().string(from: $0) } ?? "never used"
                print(
                    "workspace \(attached.workspace.slug) (\(attached.selector))\t\(attached.id)\t\(attached.label)\t\(permission)\tadded \(ISO8601DateFormatter().string(from: attached.addedAt)) by \(attached.addedBy ?? "operator")\t\(used)"
                )
            }
        }
    }
}

extension DeployKeyCommand {
    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give a new key every attachment an old key has in a workspace; the old one goes when the overlap ends.")
        @OptionGroup var options: DataOptions
        @Option(help: "The workspace slug.") var workspace: String
        @Option(help: "The old key's fingerprint (SHA256:…).") var old: String
        @Option(help: "The new public key file (.pub), or - for standard input.") var keyFile: String
        @Option(help: "How long both keys work: 24h, 90m, 7d, or 0 to remove the old key at once.") var overlap = "24h"

        func run() async throws {
            let text = try readKeyFile(keyFile)
            let seconds = try ExpiryDate.lifetime(overlap)
            let rotation = try await options.withDirectory {
                try await $0.keys.rotate(actor: .localOperator, workspace: workspace, oldFingerprint: old, newKeyText: text, overlap: seconds)
            }
            for step in rotation.steps {
                print("\(step.place)\t\"\(step.label)\"\t\(step.oldID) → \(step.newID)\(step.created ? "" : " (already there)")")
            }
            let when = rotation.oldRemovedAt.map { "are removed at \(ISO8601DateFormatter().string(from: $0))" } ?? "were removed now"
            print(
                "Rotated \(rotation.steps.count) attachments from \(rotation.oldFingerprint) to \(rotation.newFingerprint); the old key's attachments \(when).")
        }
    }
}
