# stores/: state stores (key-value, window, session), change-logging, caching, restore.
# stores -> common, RocksDB. Sources are added to libstores.la as they land.
