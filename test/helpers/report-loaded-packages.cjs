// Preloaded (node --require) by tests that check what a command loads: at exit, prints
// on stderr which of the heavy packages were loaded, as "LOADED [names]".
process.on('exit', () => {
  const heavy = /node_modules[\\/](mqtt|aedes|lz4-napi|@msgpack)[\\/]/;
  const loaded = Object.keys(require('node:module')._cache).filter((k) => heavy.test(k)).map((k) => heavy.exec(k)[1]);
  require('node:fs').writeSync(2, `LOADED ${JSON.stringify([...new Set(loaded)].sort())}\n`);
});
