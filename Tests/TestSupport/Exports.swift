// The server and database kits, for Purser's tests through this one import.
@_exported import HTTPServerTesting
@_exported import PostgresTesting
