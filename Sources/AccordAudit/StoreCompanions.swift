import Foundation

/// Where a store file's write-ahead-log companions live.
enum StoreCompanions {
    static func paths(of path: String) -> [String] { [path + "-wal", path + "-shm", path + "-journal"] }

    /// Removes a store file and its companions, ignoring the ones that are absent.
    static func remove(_ path: String) throws {
        let files = FileManager.default
        for file in [path] + paths(of: path) where files.fileExists(atPath: file) {
            try files.removeItem(atPath: file)
        }
    }

    /// The canonical absolute form of a path (symlinks resolved), for "same file?" checks.
    static func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }
}
