import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseHTTP

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage accounts.",
        subcommands: [Add.self, List.self, Passwd.self])

    struct Passwd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set an account's password for the web interface, read from standard input; signs out its web sessions.")
        @OptionGroup var options: DataOptions
        @Argument(help: "The user name.") var name: String

        func run() async throws {
            let input = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            // One line: the password, without its line ending.
            let password = String(input.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
                .trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
            try await options.withDirectory { try await $0.sessions.setPassword(username: name, password: password) }
            print("Password set for \(name). Its web sessions were signed out: sign in again with the new password.")
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an account.")
        @OptionGroup var options: DataOptions
        @Argument(help: "The user name (lowercase letters, digits, -, _ and .).") var name: String
        @Option(help: "The email address notices go to.") var email: String
        @Option(help: "The name shown in the interface (default: the user name).") var displayName: String?

        func run() async throws {
            let user = try await options.withDirectory { try await $0.directory.addUser(username: name, email: email, displayName: displayName) }
            print("Created user \(user.username) <\(user.email)>.")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List accounts.")
        @OptionGroup var options: DataOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let users = try await options.withDirectory { try await $0.directory.users(actor: .localOperator) }
            if json { return print(CommandLineJSON.users(users)) }
            for user in users { print("\(user.username)\t\(user.email)") }
        }
    }
}

struct WorkspaceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workspace", abstract: "Manage workspaces and their members.",
        subcommands: [Add.self, Member.self, WorkspaceDeployKeyCommand.self, WorkspacePolicyCommand.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a workspace owned by an account.")
        @OptionGroup var options: DataOptions
        @Argument(help: "The workspace slug, e.g. acme.") var slug: String
        @Option(help: "The owning account.") var owner: String
        @Option(help: "The plan's seat limit: how many accounts may be members. Deployment keys take no seat.") var seats: Int = 5
        @Option(help: "A display name (default: the slug).") var name: String?

        func run() async throws {
            let workspace = try await options.withDirectory {
                try await $0.directory.addWorkspace(slug: slug, name: name, owner: owner, seatLimit: seats)
            }
            print("Created workspace \(workspace.slug) (owner \(owner), \(workspace.seatLimit) seats).")
        }
    }

    struct Member: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Manage workspace members.", subcommands: [Add.self])

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Add an account to a workspace, or change its role.")
            @OptionGroup var options: DataOptions
            @Argument(help: "The workspace slug.") var slug: String
            @Argument(help: "The account.") var name: String
            @Option(help: "member or admin (admins administer every repository in the workspace).") var role: WorkspaceRole = .member

            func run() async throws {
                try await options.withDirectory { try await $0.directory.setMember(workspace: slug, username: name, role: role) }
                print("\(name) is now \(role.rawValue) of \(slug).")
            }
        }
    }
}

struct RepoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repo", abstract: "Manage repositories.",
        subcommands: [Create.self, Grant.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an empty repository.")
        @OptionGroup var options: DataOptions
        @Argument(help: "WORKSPACE/REPOSITORY, e.g. acme/website.") var fullName: String
        @Flag(help: "Anyone with an account key can read it (default: private).") var `public` = false

        func run() async throws {
            let repository = try await options.withDirectory { try await $0.directory.createRepository(fullName, isPrivate: !self.public) }
            print("Created \(repository.isPrivate ? "private" : "public") repository \(repository.fullName).")
        }
    }

    struct Grant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give an account read, write or admin access to a repository.")
        @OptionGroup var options: DataOptions
        @Argument(help: "WORKSPACE/REPOSITORY.") var fullName: String
        @Argument(help: "The account.") var name: String
        @Argument(help: "read, write or admin.") var level: AccessLevel

        func run() async throws {
            try await options.withDirectory { try await $0.directory.grant(repository: fullName, username: name, level: level) }
            print("\(name) has \(level.name) access to \(fullName).")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List repositories.")
        @OptionGroup var options: DataOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let repositories = try await options.withDirectory { try await $0.directory.visibleRepositories(actor: .localOperator) }
            if json { return print(CommandLineJSON.repositories(repositories)) }
            for repository in repositories { print("\(repository.fullName)\t\(repository.isPrivate ? "private" : "public")") }
        }
    }
}
