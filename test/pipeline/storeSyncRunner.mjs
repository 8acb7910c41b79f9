// Child process for the crash test: drains a bus file into a store file with syncStoreFromBus until it is killed.
// Usage: node storeSyncRunner.mjs <embeddedBus.js URL> <embeddedStore.js URL> <storeSync.js URL> <bus file> <store file> <batch size>
const [busModule, storeModule, syncModule, busFile, storeFile, batchSize] = process.argv.slice(2);
const { EmbeddedBus } = await import(busModule);
const { EmbeddedStore } = await import(storeModule);
const { syncStoreFromBus } = await import(syncModule);
const bus = new EmbeddedBus(busFile);
const store = new EmbeddedStore(storeFile);
await syncStoreFromBus(bus, store, { batchSize: Number(batchSize) });
await store.close();
await bus.close();
