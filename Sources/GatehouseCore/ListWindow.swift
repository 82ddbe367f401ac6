/// Which part of a list to load, in the list's own order: at most `limit` items after the first `offset`. Lists are
/// cut in the database, so that one page costs the same however long the list is.
public struct ListWindow: Sendable, Equatable {
    public var offset: Int
    public var limit: Int
    /// For lists in the order of an integer id (deployment keys): the window starts after this id, wherever it is,
    /// and `offset` is not used. Reading on from a cursor costs the same however far in it is; skipping `offset`
    /// items costs a walk over them in the index.
    public var after: Int?

    public init(offset: Int, limit: Int, after: Int? = nil) {
        self.offset = max(0, offset)
        self.limit = max(0, limit)
        self.after = after
    }

    /// The same window with one item more, which tells whether the list goes on past it.
    public var withOneMore: ListWindow { ListWindow(offset: offset, limit: limit + 1, after: after) }

    /// The whole list: for rules that must see every item (a key's attachments), never for what a caller lists.
    public static let whole = ListWindow(offset: 0, limit: Int(Int32.max))

}

/// One window of a list, whether more follow, and how long the whole list is, unless it is longer than
/// `countLimit`: counting a very long list would cost more than the page (Bitbucket leaves `size` out then too).
public struct ListPage<Item: Sendable>: Sendable {
    public var items: [Item]
    /// nil: more than `countLimit`.
    public var total: Int?
    public var hasMore: Bool

    /// Lists are counted up to this length.
    public static var countLimit: Int { 10_000 }

    public init(items: [Item], total: Int?, hasMore: Bool) {
        self.items = items
        self.total = total
        self.hasMore = hasMore
    }

    /// The page of `window` from `loaded`, read with `window.withOneMore` (so that whether more follow is known
    /// without counting), and `counted`, a count taken up to `countLimit + 1`.
    public init(_ window: ListWindow, loaded: [Item], counted: Int) {
        self.init(items: Array(loaded.prefix(window.limit)), total: Self.total(counted), hasMore: loaded.count > window.limit)
    }

    /// Loads the page of `window` with one item more (`items`), and the count up to `countLimit + 1` (`count` gets
    /// that limit): what every list of a service does.
    public static func load(
        _ window: ListWindow, items: (ListWindow) async throws -> [Item], count: (_ upTo: Int) async throws -> Int
    ) async throws -> ListPage {
        ListPage(window, loaded: try await items(window.withOneMore), counted: try await count(countLimit + 1))
    }

    /// A count taken up to `countLimit + 1` as a total: nil when the list is longer than `countLimit`.
    public static func total(_ counted: Int) -> Int? {
        counted > countLimit ? nil : counted
    }
}
