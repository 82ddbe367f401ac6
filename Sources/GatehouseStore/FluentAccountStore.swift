import FluentKit
import Foundation
import GatehouseCore

struct FluentAccountStore: AccountStore {
    func create(_ user: User, on db: any StoreHandle) async throws {
        let model = UserModel()
        model.id = user.id
        model.username = user.username
        model.email = user.email
        model.displayName = user.displayName
        model.createdAt = Date()
        try await unique { try await model.create(on: db.fluent) }
    }

    func user(username: String, on db: any StoreHandle) async throws -> User? {
        try await UserModel.query(on: db.fluent).filter(\.$username == username).first()?.entity
    }

    func user(id: UUID, on db: any StoreHandle) async throws -> User? {
        try await UserModel.find(id, on: db.fluent)?.entity
    }

    func users(on db: any StoreHandle) async throws -> [User] {
        try await UserModel.query(on: db.fluent).sort(\.$username).all().map(\.entity)
    }

    func setPasswordHash(_ hash: String, userID: UUID, on db: any StoreHandle) async throws {
        try await UserModel.query(on: db.fluent).filter(\.$id == userID).set(\.$passwordHash, to: hash).update()
    }

    func passwordHash(username: String, on db: any StoreHandle) async throws -> (User, String?)? {
        guard let model = try await UserModel.query(on: db.fluent).filter(\.$username == username).first() else { return nil }
        return (model.entity, model.passwordHash)
    }
}
