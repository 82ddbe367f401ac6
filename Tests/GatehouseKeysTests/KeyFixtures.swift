import Crypto
import Foundation

/// Builds public key blobs in the SSH wire format (RFC 4251 §5) and `.pub` lines from them.
enum Wire {
    /// An SSH `string`: 4-byte big-endian length, then the bytes.
    static func string(_ bytes: [UInt8]) -> [UInt8] {
        let length = UInt32(bytes.count)
        return [UInt8(length >> 24 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)] + bytes
    }

    static func text(_ text: String) -> [UInt8] { string(Array(text.utf8)) }

    /// `TYPE BASE64 [COMMENT]`, as in a .pub file.
    static func line(_ type: String, _ blob: [UInt8], comment: String? = nil) -> String {
        let base = "\(type) \(Data(blob).base64EncodedString())"
        return comment.map { "\(base) \($0)" } ?? base
    }
}

/// Keys made in-process with swift-crypto, so the refusal tables need no subprocess.
enum Fixture {
    static func ed25519Blob() -> [UInt8] {
        Wire.text("ssh-ed25519") + Wire.string(Array(Curve25519.Signing.PrivateKey().publicKey.rawRepresentation))
    }

    static func p256Point() -> [UInt8] {
        Array(P256.Signing.PrivateKey().publicKey.x963Representation)
    }

    static func skEd25519Blob() -> [UInt8] {
        let key = (0..<32).map { _ in UInt8.random(in: 0...255) }
        return Wire.text("sk-ssh-ed25519@openssh.com") + Wire.string(key) + Wire.text("ssh:")
    }

    static func skECDSAP256Blob() -> [UInt8] {
        Wire.text("sk-ecdsa-sha2-nistp256@openssh.com") + Wire.text("nistp256") + Wire.string(p256Point()) + Wire.text("ssh:")
    }

    /// `ssh-rsa` with e = 65537 and a modulus of exactly `bits` bits (high bit set, sign byte 0x00).
    static func rsaBlob(bits: Int) -> [UInt8] {
        let modulus: [UInt8] = [0x00, 0xC5] + Array(repeating: 0xA7, count: bits / 8 - 1)
        return Wire.text("ssh-rsa") + Wire.string([0x01, 0x00, 0x01]) + Wire.string(modulus)
    }

    /// One real ed25519 key, generated once for the refusal table.
    static let ed25519 = ed25519Blob()
    static let ed25519Line = Wire.line("ssh-ed25519", ed25519, comment: "me@laptop")
}
