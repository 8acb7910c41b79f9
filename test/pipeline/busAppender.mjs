// Child process for the concurrent-writers test: opens its own connection to a bus file, says "ready", waits for a line
// on stdin, then appends `count` records keyed by its writer name in small transactions (alternating publish and
// appendSync, batches of 1 to 3 records).
// Usage: node busAppender.mjs <embeddedBus.js URL> <bus file> <topic> <writer> <count>
const [busModule, file, topic, writer, countText] = process.argv.slice(2);
const count = Number(countText);
const { EmbeddedBus } = await import(busModule);
const bus = new EmbeddedBus(file);
process.stdout.write('ready\n');
await new Promise((resolve) => process.stdin.once('data', resolve));
for (let next = 0, batch = 0; next < count; batch += 1) {
  const size = Math.min(1 + (batch % 3), count - next);
  const records = Array.from({ length: size }, (_, i) => ({ key: writer, value: `${writer}:${next + i}` }));
  if (batch % 2 === 0) bus.appendSync(topic, records);
  else await bus.publish(topic, records);
  next += size;
}
await bus.close();
