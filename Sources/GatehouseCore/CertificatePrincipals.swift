import Foundation

/// The principals a certificate authority is trusted for: sshd accepts a certificate it signed only when the
/// certificate names one of them (`cert-authority,principals="..."`).
public enum CertificatePrincipals {
    public static let maximumCount = 16
    public static let maximumLength = 64

    /// The names, trimmed and without repeats. Throws for none, too many, or a name with characters that
    /// could change the meaning of sshd's option (commas, quotes, spaces, wildcards).
    public static func validate(_ names: [String]) throws(GatehouseError) -> [String] {
        var principals: [String] = []
        for name in names.map({ $0.trimmingCharacters(in: .whitespaces) }) where !principals.contains(name) {
            guard !name.isEmpty, name.count <= maximumLength, name.allSatisfy(isAllowed) else {
                throw .invalidArgument(
                    "The principal \"\(name)\" is not allowed: use 1 to \(maximumLength) letters, digits and . _ - @ + (as in the certificates' -n option).")
            }
            principals.append(name)
        }
        guard !principals.isEmpty else {
            throw .invalidArgument("Give a certificate authority at least one principal: certificates must name one of them (ssh-keygen -s CA -n PRINCIPAL).")
        }
        guard principals.count <= maximumCount else {
            throw .invalidArgument("Give at most \(maximumCount) principals.")
        }
        return principals
    }

    private static func isAllowed(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || "._-@+".contains(character))
    }
}
