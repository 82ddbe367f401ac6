import Foundation
import GatehouseCore

/// The deployment-key request bodies, read and checked as the routes do before a service is asked: the JSON, then
/// the permission and its ref rules, the expiry, the repositories selector, the label and the key. Public for the
/// fuzz harness (`Fuzz/APIBodies`), which feeds them arbitrary bytes: each must end in a value or a refusal the
/// API can answer, never in a crash.
public enum DeployKeyBodies {
    /// The bodies by the route that reads them.
    public static let routes: [(name: String, check: @Sendable (Data) throws -> Void)] = [
        (
            "POST repository deploy-keys",
            { bytes in
                let input = try APIRequestDecoder.decode(DeployKeyInput.self, from: bytes)
                _ = try keyPermission(input.permission, input.ref_rules)
                _ = try expiry(input.expires_on)
                try checked(key: input.key, label: input.label)
                _ = try input.certificate_principals.map(CertificatePrincipals.validate)
            }
        ),
        (
            "PUT repository deploy-keys/{id}",
            { bytes in
                let input = try APIRequestDecoder.decode(DeployKeyChangeInput.self, from: bytes)
                if input.permission != nil || input.ref_rules != nil { _ = try keyPermission(input.permission, input.ref_rules) }
                if let label = input.label { _ = try Names.validateLabel(label) }
            }
        ),
        (
            "POST workspace deploy-keys",
            { bytes in
                let input = try APIRequestDecoder.decode(WorkspaceDeployKeyInput.self, from: bytes)
                _ = try expiry(input.expires_on)
                _ = try (input.repositories ?? .all).selector()
                _ = try keyPermission(input.permission, input.ref_rules)
                if let key = input.key, let label = input.label { try checked(key: key, label: label) }
            }
        ),
        (
            "POST workspace deploy-keys/attach",
            { bytes in
                let input = try APIRequestDecoder.decode(AttachInput.self, from: bytes)
                _ = try keyPermission(input.permission, input.ref_rules)
                try checked(key: input.key, label: input.label)
            }
        ),
        (
            "POST workspace deploy-keys/rotate",
            { bytes in
                let input = try APIRequestDecoder.decode(RotateInput.self, from: bytes)
                try KeyService.requireFingerprint(input.old)
                _ = try KeyService.parse(input.key)
            }
        ),
        (
            "POST workspace registration-tokens",
            { bytes in
                let input = try APIRequestDecoder.decode(RegistrationTokenInput.self, from: bytes)
                _ = try (input.repositories ?? .all).selector()
            }
        ),
    ]

    private static func checked(key: String, label: String) throws {
        _ = try KeyService.parse(key)
        _ = try Names.validateLabel(label)
    }
}
