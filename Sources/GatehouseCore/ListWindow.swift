/// Which part of a list to load, in the list's own order: at most `limit` items after the first `offset`. Lists are
/// cut in the database, so that one page costs the same however long the list is.
public struct ListWindow: Sendable, Equatable {
    public var offset: Int
    public var limit: Int

    public init(offset: Int, limit: Int) {
        self.offset = max(0, offset)
        self.limit = max(0, limit)
    }

    /// The whole list: for rules that must see every item (a key's attachments), never for what a caller lists.
    public static let whole = ListWindow(offset: 0, limit: Int(Int32.max))

    /// The windows of `size` items that cover a list from its start, for a caller that goes through all of it in
    /// bounded steps (the CLI prints as it reads).
    public static func batches(of size: Int) -> some Sequence<ListWindow> {
        sequence(first: ListWindow(offset: 0, limit: size)) { ListWindow(offset: $0.offset + size, limit: size) }
    }
}

/// One window of a list, and how long the whole list is.
public struct ListPage<Item: Sendable>: Sendable {
    public var items: [Item]
    public var total: Int

    public init(items: [Item], total: Int) {
        self.items = items
        self.total = total
    }
}
